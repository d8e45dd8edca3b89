import { USAGE_TOPIC, defineUsageTopic, projectOf, type Logger, type Principal, type TopicQueue, type UsageEvent } from '@rgw/shared';
import type { ResponseObject } from '../wire/response-types.js';

/**
 * Reports what each finished response used, for the gateway to record per key and model (and settle
 * tokens-per-minute limits): one event per response on USAGE_TOPIC, `requests: 1` per response (not
 * per model call: a tool loop of several calls is one request), its summed tokens, and the principal
 * it ran for. Fire-and-forget: a queue that cannot take the event is logged, never the response's
 * failure, and never waited for.
 */
export class UsageReporter {
  constructor(
    private readonly queue: Pick<TopicQueue, 'defineTopic' | 'publish'>,
    private readonly log: Logger,
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
      void this.queue.publish(USAGE_TOPIC, event).catch((err: unknown) => this.log.error({ err, responseId: response.id }, 'publishing a usage event failed'));
    } catch (err) {
      this.log.error({ err, responseId: response.id }, 'publishing a usage event failed');
    }
  }
}
