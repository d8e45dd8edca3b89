/**
 * Speaks the ext_proc protocol to the platform exactly as Envoy's ext_proc filter does with
 * processing_mode {request_header_mode: SEND, request_body_mode: BUFFERED, response modes SKIP}:
 * one stream per HTTP request, the request headers (pseudo-headers included, values as raw_value),
 * then the whole body in one message with end_of_stream, reading the answer to each.
 */
import * as grpc from '@grpc/grpc-js';
import { loadExternalProcessor, type ProcessingRequest, type ProcessingResponse } from '../../gateway/src/extproc/index.js';

export interface EnvoyRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
  /** Split the body over this many messages (Envoy's STREAMED / BUFFERED_PARTIAL modes); default one. */
  chunks?: number;
}

export type Outcome =
  | { kind: 'immediate'; status: number; headers: Record<string, string[]>; body: Buffer; json<T = any>(): T }
  | {
      kind: 'continue';
      /** The phase whose answer let the request go on to Envoy's router. */
      phase: 'request_headers' | 'request_body';
      setHeaders: Record<string, string>;
      removeHeaders: string[];
      clearRouteCache: boolean;
      modeOverride?: Record<string, unknown> | null;
    };

const Client = loadExternalProcessor();

export class ExtProcClient {
  readonly client: grpc.Client & { Process(): grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse> };

  constructor(address: string) {
    this.client = new Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 }) as never;
  }

  close(): void {
    this.client.close();
  }

  /** Opens a stream and runs one request through it the way Envoy does. */
  async exchange(req: EnvoyRequest): Promise<Outcome> {
    const call = this.client.Process();
    const replies = replyQueue(call);
    try {
      const body = bodyBytes(req.body);
      const headers = { ':method': req.method, ':path': req.path, ':authority': 'api.example.test', ':scheme': 'http', ...defaultHeaders(req, body), ...req.headers };
      call.write({ request_headers: { headers: { headers: Object.entries(headers).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) }, end_of_stream: !body } });
      let reply = await replies.next();
      const first = outcome(reply, 'request_headers');
      if (first.kind === 'immediate' || !body) return first;
      // A pass-through decided at the headers phase with a mode override: Envoy sends no body.
      if (first.clearRouteCache && first.modeOverride) return first;
      const n = Math.max(1, req.chunks ?? 1);
      const size = Math.ceil(body.length / n);
      for (let i = 0; i < n; i++) {
        const last = i === n - 1;
        call.write({ request_body: { body: body.subarray(i * size, last ? body.length : (i + 1) * size), end_of_stream: last } });
        reply = await replies.next();
        if (!last) {
          if (reply.response !== 'request_body') return outcome(reply, 'request_body');
          continue;
        }
      }
      const second = outcome(reply, 'request_body');
      // Headers set at the headers phase still apply (Envoy merges both mutations).
      if (second.kind === 'continue' && first.kind === 'continue') {
        return { ...second, setHeaders: { ...first.setHeaders, ...second.setHeaders }, removeHeaders: [...first.removeHeaders, ...second.removeHeaders] };
      }
      return second;
    } finally {
      call.end();
    }
  }
}

function bodyBytes(body: EnvoyRequest['body']): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

function defaultHeaders(req: EnvoyRequest, body: Buffer | undefined): Record<string, string> {
  const h: Record<string, string> = { authorization: 'Bearer test-key' };
  if (body) {
    h['content-length'] = String(body.length);
    if (!Buffer.isBuffer(req.body) && typeof req.body !== 'string') h['content-type'] = 'application/json';
  }
  return h;
}

function outcome(reply: ProcessingResponse, phase: 'request_headers' | 'request_body'): Outcome {
  if (reply.response === 'immediate_response') {
    const r = reply.immediate_response!;
    const headers: Record<string, string[]> = {};
    for (const { header } of r.headers?.set_headers ?? []) (headers[header.key] ??= []).push(Buffer.from(header.raw_value ?? []).toString('latin1') || header.value || '');
    const body = Buffer.from(r.body ?? []);
    return { kind: 'immediate', status: Number(r.status.code), headers, body, json: () => JSON.parse(body.toString('utf8')) };
  }
  if (reply.response !== phase) throw new Error(`expected an answer to ${phase}, got ${reply.response}`);
  const common = reply[phase]?.response;
  if (!common) throw new Error(`answer to ${phase} without a CommonResponse`);
  const setHeaders: Record<string, string> = {};
  for (const { header } of common.header_mutation?.set_headers ?? []) setHeaders[header.key] = Buffer.from(header.raw_value ?? []).toString('latin1') || header.value || '';
  return {
    kind: 'continue',
    phase,
    setHeaders,
    removeHeaders: common.header_mutation?.remove_headers ?? [],
    clearRouteCache: !!common.clear_route_cache,
    modeOverride: reply.mode_override,
  };
}

/** The stream's answers in order; fails when the stream ends or errs before the next one. */
export function replyQueue(call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>) {
  const buffered: ProcessingResponse[] = [];
  const waiting: { resolve(r: ProcessingResponse): void; reject(e: Error): void }[] = [];
  let closed: Error | undefined;
  call.on('data', (r: ProcessingResponse) => (waiting.length ? waiting.shift()!.resolve(r) : buffered.push(r)));
  const close = (e: Error) => {
    closed ??= e;
    while (waiting.length) waiting.shift()!.reject(closed);
  };
  call.on('error', (e) => close(e));
  call.on('end', () => close(new Error('the processor closed the stream without answering')));
  return {
    next(): Promise<ProcessingResponse> {
      if (buffered.length) return Promise.resolve(buffered.shift()!);
      if (closed) return Promise.reject(closed);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}
