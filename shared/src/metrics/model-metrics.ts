import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

const calls = new Counter({
  name: 'rgw_model_requests_total',
  help: 'Calls to model servers, by provider, model, endpoint and status (HTTP status, or error/aborted)',
  labelNames: ['provider', 'model', 'endpoint', 'status'] as const,
  registers: [metricsRegistry],
});
const errors = new Counter({
  name: 'rgw_model_errors_total',
  help: 'Failed model-server calls: HTTP 4xx/5xx replies, unreachable, timed out, or a reply broken off',
  labelNames: ['provider', 'model', 'endpoint', 'kind'] as const,
  registers: [metricsRegistry],
});
const latency = new Histogram({
  name: 'rgw_model_request_duration_seconds',
  help: 'Model-server call time, from sending the request to the end of the reply',
  labelNames: ['provider', 'model', 'endpoint'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});
const firstByte = new Histogram({
  name: 'rgw_model_time_to_first_token_seconds',
  help: 'Time to the first byte of the reply body; for a streamed chat completion, the first token (or role) chunk',
  labelNames: ['provider', 'model', 'endpoint'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});
const tokens = new Counter({
  name: 'rgw_model_tokens_total',
  help: 'Tokens the model servers reported, by model, direction (input/output) and project',
  labelNames: ['model', 'direction', 'project'] as const,
  registers: [metricsRegistry],
});

/**
 * Watches one model-server call (the promise of its reply headers) without touching the reply:
 * nothing is read and no `data` listener is added (that would start the stream flowing before its
 * consumer is attached); the first body chunk is noticed by wrapping the reply's `emit` once.
 */
export function observeModelCall(reply: Promise<IncomingMessage>, provider: string, model: string | undefined, endpoint: string): void {
  const labels = { provider, model: model ?? 'unknown', endpoint };
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  reply.then(
    (msg) => {
      const status = msg.statusCode ?? 0;
      calls.inc({ ...labels, status: String(status) });
      if (status >= 400) errors.inc({ ...labels, kind: status >= 500 ? 'http_5xx' : 'http_4xx' });
      const emit = msg.emit;
      msg.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
        if (event === 'data') {
          firstByte.observe(labels, seconds());
          msg.emit = emit;
        }
        return emit.call(this, event, ...args);
      } as IncomingMessage['emit'];
      msg.once('close', () => {
        msg.emit = emit;
        latency.observe(labels, seconds());
        if (!msg.complete) errors.inc({ ...labels, kind: 'broken_reply' });
      });
    },
    (err: NodeJS.ErrnoException & { code?: unknown }) => {
      const aborted = err?.name === 'AbortError' || err?.code === 'ABORT_ERR';
      calls.inc({ ...labels, status: aborted ? 'aborted' : 'error' });
      if (!aborted) errors.inc({ ...labels, kind: err?.code === 'upstream_timeout' ? 'timeout' : 'unreachable' });
    },
  );
}

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

interface AccessLogUsage {
  model: string;
  input_tokens?: number;
  output_tokens?: number;
}

// What the access log line of a response adds: its model and token counts.
const usageByResponse = new WeakMap<ServerResponse, AccessLogUsage>();

/**
 * Counts the tokens of one inference call and keeps them, with the model, for the request's access
 * log line (`usageOf`). `usage` undefined: the model server reported none; the model is still logged.
 */
export function countTokens(res: ServerResponse | undefined, model: string, usage: TokenUsage | undefined, project = 'none'): void {
  if (usage) {
    tokens.inc({ model, direction: 'input', project }, usage.input_tokens);
    tokens.inc({ model, direction: 'output', project }, usage.output_tokens);
  }
  if (res) usageByResponse.set(res, { model, ...usage });
}

/** The model and tokens recorded for this response (`countTokens`), for its access log line. */
export function usageOf(res: ServerResponse): AccessLogUsage | undefined {
  return usageByResponse.get(res);
}
