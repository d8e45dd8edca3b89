/**
 * ExtProc mode: the platform as Envoy's external processor (envoy.service.ext_proc.v3). One gRPC
 * stream per HTTP request; Envoy sends the request headers, then (request_body_mode BUFFERED) the
 * whole body, and waits for an answer to each. Ordinary API calls are answered from here with an
 * immediate response, produced by the platform's own HTTP listener (loopback.ts) so every endpoint,
 * error and header is exactly what an HTTP client gets. Streams and uploads continue through Envoy
 * to that listener instead (routing.ts says which, and why).
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { ApiError, toApiError, type ExtProcConfig, type Logger } from '@rgw/shared';
import { Loopback, isHopByHop, type LoopbackAnswer } from './loopback.js';
import {
  PASS_BODY_THROUGH,
  headerText,
  loadExternalProcessor,
  setHeader,
  type CommonResponse,
  type HttpHeaders,
  type ProcessingRequest,
  type ProcessingResponse,
} from './protocol.js';
import { BODY_ROUTED, PASSTHROUGH_HEADER, PASSTHROUGH_VALUE, jsonBody, passThroughAtHeaders, splitPath, wantsStream, type RequestHead } from './routing.js';

export interface ExtProcOptions {
  config: ExtProcConfig;
  host: string;
  /** The platform's HTTP listener, e.g. http://127.0.0.1:8321. */
  target: string;
  logger: Logger;
  /**
   * Body routing: authenticates and admits a request about to leave for Envoy's own upstream (it
   * will not pass our listener); throws the ApiError to answer with.
   */
  authorize?: (headers: IncomingHttpHeaders, model: string) => Promise<void>;
}

export interface ExtProcServer {
  port: number;
  close(timeoutMs: number): Promise<void>;
}

type Call = grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

// Bodies up to the buffer limit plus the envelope of the message; gRPC's own default is 4 MB.
const MESSAGE_OVERHEAD = 64 * 1024;

export async function startExtProc(opts: ExtProcOptions): Promise<ExtProcServer> {
  const { config, logger } = opts;
  const loopback = new Loopback(opts.target, config.bufferLimitBytes);
  const maxMessage = config.bufferLimitBytes + MESSAGE_OVERHEAD;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessage, 'grpc.max_send_message_length': maxMessage });
  const service = loadExternalProcessor().service;
  server.addService(service, { Process: (call: Call) => new Exchange(call, loopback, opts).run() });
  const address = opts.host.includes(':') ? `[${opts.host}]:${config.port}` : `${opts.host}:${config.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  logger.info({ port, target: opts.target, bufferLimitBytes: config.bufferLimitBytes, bodyRouting: config.bodyRouting }, 'extproc listening');
  return {
    port,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        // Streams in flight get their answers; past the grace period they are cut.
        const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          loopback.close();
          resolve();
        });
      }),
  };
}

/** One HTTP request's conversation with Envoy. Messages are handled strictly in order. */
class Exchange {
  private head?: RequestHead;
  private chunks: Buffer[] = [];
  private passingThrough = false;
  private finished = false;
  private readonly abort = new AbortController();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly call: Call,
    private readonly loopback: Loopback,
    private readonly opts: ExtProcOptions,
  ) {}

  run(): void {
    // Envoy gave up (the client went away, or its message timeout): the loopback call is cut too.
    this.call.on('cancelled', () => {
      this.finished = true;
      this.abort.abort();
    });
    this.call.on('error', () => this.abort.abort());
    this.call.on('data', (msg: ProcessingRequest) => {
      this.queue = this.queue.then(() => this.handle(msg)).catch((err) => this.fail(err));
    });
    this.call.on('end', () => {
      this.queue = this.queue.then(() => this.finish());
    });
  }

  private async handle(msg: ProcessingRequest): Promise<void> {
    if (this.finished || msg.observability_mode) return;
    switch (msg.request) {
      case 'request_headers':
        return this.onHeaders(msg.request_headers!);
      case 'request_body': {
        const { body, end_of_stream } = msg.request_body!;
        if (this.passingThrough) return this.send({ request_body: { response: { status: 'CONTINUE' } } });
        if (body?.length) this.chunks.push(Buffer.from(body));
        if (!end_of_stream) return this.send({ request_body: { response: { status: 'CONTINUE' } } });
        return this.onBody(Buffer.concat(this.chunks));
      }
      // Phases the example configuration skips; answered so a different configuration never stalls.
      case 'request_trailers':
        return this.send({ request_trailers: {} });
      case 'response_headers':
        return this.send({ response_headers: { response: { status: 'CONTINUE' } } });
      case 'response_body':
        return this.send({ response_body: { response: { status: 'CONTINUE' } } });
      case 'response_trailers':
        return this.send({ response_trailers: {} });
      default:
        throw new ApiError(400, 'ext_proc message without a request phase', { code: 'extproc_protocol_error' });
    }
  }

  private async onHeaders(msg: HttpHeaders): Promise<void> {
    const head = (this.head = readHead(msg));
    const why = passThroughAtHeaders(head, this.opts.config.bufferLimitBytes);
    if (why) return this.passThrough('request_headers', why);
    if (msg.end_of_stream) return this.answer(Buffer.alloc(0), 'request_headers');
    // The body follows. Headers a client might forge to pick Envoy's route are dropped now.
    await this.send({ request_headers: { response: { status: 'CONTINUE', header_mutation: { remove_headers: [PASSTHROUGH_HEADER, this.opts.config.modelHeader] } } } });
  }

  private async onBody(body: Buffer): Promise<void> {
    const head = this.head;
    if (!head) throw new ApiError(400, 'ext_proc request body before its headers', { code: 'extproc_protocol_error' });
    const json = jsonBody(head, body);
    const { bodyRouting, modelHeader } = this.opts.config;
    if (bodyRouting && head.method === 'POST' && BODY_ROUTED.has(head.pathname) && typeof json?.model === 'string' && json.model) {
      return this.routeToUpstream(head, json.model, modelHeader);
    }
    if (wantsStream(head, json)) return this.passThrough('request_body', 'stream: true');
    return this.answer(body, 'request_body');
  }

  /** Body routing: the request continues to Envoy's own upstream, which routes on the model header. */
  private async routeToUpstream(head: RequestHead, model: string, modelHeader: string): Promise<void> {
    try {
      await this.opts.authorize?.(head.headers as IncomingHttpHeaders, model);
    } catch (err) {
      return this.sendImmediate(errorAnswer(toApiError(err)));
    }
    const response: CommonResponse = {
      status: 'CONTINUE',
      header_mutation: { set_headers: [setHeader(modelHeader, model)], remove_headers: [PASSTHROUGH_HEADER] },
      clear_route_cache: true,
    };
    await this.send({ request_body: { response } });
    this.end();
  }

  /** The request continues through Envoy to the platform's HTTP listener (its route matches our header). */
  private async passThrough(phase: 'request_headers' | 'request_body', why: string): Promise<void> {
    this.passingThrough = true;
    this.opts.logger.debug({ path: this.head?.pathname, why }, 'extproc pass-through');
    const response: CommonResponse = {
      status: 'CONTINUE',
      header_mutation: { set_headers: [setHeader(PASSTHROUGH_HEADER, PASSTHROUGH_VALUE)], remove_headers: [this.opts.config.modelHeader] },
      clear_route_cache: true,
    };
    // At the headers phase the body (an upload) is not wanted here at all; the body phase is already the last.
    await this.send(phase === 'request_headers' ? { request_headers: { response }, mode_override: PASS_BODY_THROUGH } : { request_body: { response } });
  }

  /** Runs the request on the platform's HTTP listener and answers Envoy with what it produced. */
  private async answer(body: Buffer, phase: 'request_headers' | 'request_body'): Promise<void> {
    const head = this.head!;
    let result: LoopbackAnswer;
    try {
      result = await this.loopback.send({ method: head.method, path: head.path, headers: head.headers, body }, this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.opts.logger.error({ err, path: head.pathname }, 'extproc: the HTTP listener did not answer');
      return this.sendImmediate(errorAnswer(new ApiError(502, 'The gateway could not reach its own HTTP listener.', { code: 'extproc_loopback_failed' })));
    }
    if (result.kind === 'too-long') return this.passThrough(phase, result.reason);
    return this.sendImmediate(result);
  }

  private async sendImmediate(a: { status: number; headers: [string, string][]; body: Buffer }): Promise<void> {
    const seen = new Set<string>();
    const set_headers = a.headers.map(([name, value]) => {
      const again = seen.has(name);
      seen.add(name);
      return setHeader(name, value, again);
    });
    await this.send({ immediate_response: { status: { code: a.status }, headers: { set_headers }, body: a.body } });
    this.end();
  }

  private send(msg: ProcessingResponse): Promise<void> {
    if (this.finished) return Promise.resolve();
    // Backpressure: a slow Envoy holds this stream, not the process's memory.
    return new Promise((resolve) => {
      if (this.call.write(msg)) resolve();
      else this.call.once('drain', () => resolve());
    });
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.call.end();
  }

  private finish(): void {
    // Envoy closed its side (nothing more to process): close ours.
    this.end();
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    const apiError = toApiError(err);
    this.opts.logger.warn({ err: apiError.message }, 'extproc stream failed');
    this.finished = true;
    this.abort.abort();
    // An error status makes Envoy answer 500 (or continue, with failure_mode_allow).
    this.call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: apiError.message });
  }
}

/** The request as Envoy described it: pseudo-headers read, the rest kept as HTTP/1.1 headers. */
function readHead(msg: HttpHeaders): RequestHead {
  let method = 'GET';
  let path = '/';
  let authority = '';
  const headers: Record<string, string | string[]> = {};
  for (const h of msg.headers?.headers ?? []) {
    const name = h.key.toLowerCase();
    const value = headerText(h);
    if (name === ':method') method = value.toUpperCase();
    else if (name === ':path') path = value || '/';
    else if (name === ':authority') authority = value;
    else if (!isHopByHop(name)) {
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
  }
  if (authority) headers.host = authority;
  const { pathname, query } = splitPath(path);
  return { method, path, pathname, query, headers };
}

function errorAnswer(err: ApiError): { status: number; headers: [string, string][]; body: Buffer } {
  return {
    status: err.status,
    headers: [['content-type', 'application/json; charset=utf-8'], ...Object.entries(err.headers)],
    body: Buffer.from(JSON.stringify(err.toBody())),
  };
}
