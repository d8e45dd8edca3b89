import { USAGE_TOPIC, countTokens, defineUsageTopic, projectOf, type Logger, type Principal, type TopicQueue, type UsageEvent } from '@rgw/shared';
import type { ResponseObject } from '../wire/response-types.js';

/**
 * How long reports gather before they go out as events. Each event costs a queue round trip (on the
 * database queue a row inserted, claimed and deleted: a tenth of a response's CPU in a profile at
 * concurrency 32); the gateway sums usage per key, model and day anyway, so the responses that end
 * within this window go out as one event per key and model. Short against the gateway's own flush
 * (every second). At 50 ms the database queue's claims (each event wakes the topic's 8 consumers)
 * were still 3–4 % of a `store: false` response's CPU at concurrency 32.
 */
const GATHER_MS = 250;

/**
 * Reports what each finished response used, for the gateway to record per key and model (and settle
 * tokens-per-minute limits): `requests: 1` per response (not per model call: a tool loop of several
 * calls is one request), its summed tokens, and the principal it ran for — on USAGE_TOPIC, the
 * responses of a short window summed into one event per project, key, model and day.
 * Also counts the tokens in this process's `rgw_model_tokens_total`, by model and project.
 * Fire-and-forget: a queue that cannot take the event is logged, never the response's failure, and
 * never waited for.
 */
export class UsageReporter {
  private readonly pending = new Map<string, UsageEvent>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: Pick<TopicQueue, 'defineTopic' | 'publish'>,
    private readonly log: Logger,
    private readonly gatherMs = GATHER_MS,
  ) {
    defineUsageTopic(queue);
  }

  /** The event of a response that ran (whatever its end), for `principal` (absent: the open default project). */
  static eventOf(response: ResponseObject, principal: Principal | undefined, at = Date.now()): UsageEvent {
    const event: UsageEvent = {
      projectId: projectOf({ principal }),
      model: response.model,
      requests: 1,
      input_tokens: response.usage?.input_tokens ?? 0,
      output_tokens: response.usage?.output_tokens ?? 0,
      at,
    };
    if (principal?.keyId) event.keyId = principal.keyId;
    return event;
  }

  report(response: ResponseObject, principal: Principal | undefined): void {
    try {
      const event = UsageReporter.eventOf(response, principal);
      // The model calls of a response go straight to the model server, past the gateway's inference
      // routes that count tokens: counted here, once per response (its usage sums a tool loop's calls).
      countTokens(undefined, event.model, event, event.projectId);
      const key = `${event.projectId}\0${event.keyId ?? ''}\0${event.model}\0${Math.floor(event.at / 86_400_000)}`;
      const sum = this.pending.get(key);
      if (sum) {
        sum.requests += event.requests;
        sum.input_tokens += event.input_tokens;
        sum.output_tokens += event.output_tokens;
        sum.at = event.at;
      } else this.pending.set(key, event);
      this.timer ??= setTimeout(() => this.flush(), this.gatherMs);
    } catch (err) {
      this.log.error({ err, responseId: response.id }, 'publishing a usage event failed');
    }
  }

  /** Publishes what gathered so far (the timer's job; close() calls it so nothing is left behind). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = [...this.pending.values()];
    this.pending.clear();
    for (const event of events) {
      try {
        void this.queue.publish(USAGE_TOPIC, event).catch((err: unknown) => this.log.error({ err, requests: event.requests }, 'publishing a usage event failed'));
      } catch (err) {
        this.log.error({ err, requests: event.requests }, 'publishing a usage event failed');
      }
    }
  }
}
