import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible model server: the one part of the platform our tests replace.
 * Chat completions answer from a queue of scripted replies (else they echo the last user text);
 * embeddings are deterministic; errors, hangs and a broken /models can be injected. Tests in other
 * processes script it over HTTP at /__control/*.
 */
export interface ToolCallScript {
  name: string;
  arguments: string;
  id?: string;
}

export type ChatScript =
  | {
      type: 'text';
      text: string;
      chunks?: string[];
      finish_reason?: string;
      reasoning?: string;
      refusal?: string;
      /** Milliseconds between this step's streamed chunks (overrides the server-wide chunkDelayMs). */
      delayMs?: number;
      /** Replaces the reported usage (e.g. to add prompt_tokens_details / completion_tokens_details). */
      usage?: Record<string, unknown>;
      /** Attach per-token logprobs to streamed content chunks when the request asks for logprobs. */
      logprobs?: boolean;
    }
  | { type: 'tool_calls'; calls: ToolCallScript[]; text?: string }
  | { type: 'error'; status: number; body: unknown }
  | { type: 'hang' };

/**
 * A raw reply for the next request to `path`, whatever its body: `prefix`, then `fill` repeated up
 * to `fillBytes`, then `suffix`, written in 64 KB chunks that stop when the client goes away. For
 * replies too large or too broken for the scripted shapes (a 100 MB error page, a 9 MB SSE line).
 */
export interface RawReply {
  path: string;
  status: number;
  contentType?: string;
  prefix?: string;
  fill?: string;
  fillBytes?: number;
  suffix?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface MockOptions {
  models?: string[];
  /** Milliseconds between streamed chunks. */
  chunkDelayMs?: number;
}

export class MockModelServer {
  readonly requests: RecordedRequest[] = [];
  private script: ChatScript[] = [];
  private modelsDown = false;
  private hanging = new Set<ServerResponse>();
  private raw: RawReply[] = [];
  models: string[];
  chunkDelayMs: number;
  /** Resolves when a hung request's client went away (for abort tests). */
  abortedCount = 0;

  private constructor(private readonly server: http.Server, opts: MockOptions) {
    this.models = opts.models ?? ['mock-model', 'mock-embed', 'mock-embed-words', 'mock-embed-words-slow'];
    this.chunkDelayMs = opts.chunkDelayMs ?? 0;
  }

  static async start(opts: MockOptions = {}, port = 0): Promise<MockModelServer> {
    let mock!: MockModelServer;
    // A request the mock cannot make sense of (the fuzz suite sends odd shapes through) is a 500
    // from the model server, never a hung request or an unhandled rejection in the test runner.
    const server = http.createServer((req, res) =>
      mock.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) json(res, 500, { error: { message: `mock: ${err.message}`, type: 'server_error' } });
        else res.destroy();
      }),
    );
    mock = new MockModelServer(server, opts);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return mock;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The base URL to configure as BACKEND_BASE_URL. */
  get url(): string {
    return `${this.origin}/v1`;
  }

  enqueue(...steps: ChatScript[]): void {
    this.script.push(...steps);
  }

  reset(): void {
    this.script = [];
    this.raw = [];
    this.requests.length = 0;
    this.modelsDown = false;
    this.abortedCount = 0;
  }

  setModelsDown(down: boolean): void {
    this.modelsDown = down;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    let body: any = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return json(res, 400, { error: { message: 'mock: invalid JSON', type: 'invalid_request_error' } });
    }
    if (path.startsWith('/__control/')) return this.control(path, body, res);
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    const rawAt = this.raw.findIndex((r) => r.path === path);
    if (rawAt !== -1) return writeRaw(res, this.raw.splice(rawAt, 1)[0]!);

    if (req.method === 'GET' && path === '/v1/models') {
      if (this.modelsDown) return json(res, 503, { error: { message: 'mock: models unavailable' } });
      return json(res, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'mock' })) });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return this.chat(body, res);
    if (req.method === 'POST' && path === '/v1/embeddings') return this.embeddings(body, res);
    json(res, 404, { error: { message: `mock: no route ${req.method} ${path}` } });
  }

  private control(path: string, body: any, res: ServerResponse): void {
    if (path === '/__control/script') {
      this.enqueue(...(body.steps as ChatScript[]));
      return json(res, 200, { ok: true });
    }
    if (path === '/__control/raw') {
      this.raw.push(body as RawReply);
      return json(res, 200, { ok: true });
    }
    if (path === '/__control/reset') {
      this.reset();
      return json(res, 200, { ok: true });
    }
    if (path === '/__control/models-down') {
      this.setModelsDown(Boolean(body.down));
      return json(res, 200, { ok: true });
    }
    if (path === '/__control/requests') return json(res, 200, { requests: this.requests, aborted: this.abortedCount });
    json(res, 404, { error: { message: 'mock: unknown control' } });
  }

  private async chat(body: any, res: ServerResponse): Promise<void> {
    if (!this.models.includes(body?.model)) {
      return json(res, 404, { error: { message: `mock: model '${body?.model}' not found`, type: 'invalid_request_error', code: 'model_not_found' } });
    }
    const step: ChatScript = this.script.shift() ?? { type: 'text', text: `echo: ${lastUserText(body.messages)}` };
    if (step.type === 'error') return json(res, step.status, step.body);
    if (step.type === 'hang') {
      this.hanging.add(res);
      res.on('close', () => {
        this.hanging.delete(res);
        this.abortedCount++;
      });
      return;
    }
    const id = `chatcmpl-mock${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = (step.type === 'text' && step.usage) || { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const base = { id, created, model: body.model, system_fingerprint: 'mock' };
    if (!body.stream) {
      const message: any = { role: 'assistant', content: step.type === 'text' ? step.text : (step.text ?? null) };
      if (step.type === 'text' && step.reasoning) message.reasoning_content = step.reasoning;
      if (step.type === 'text' && step.refusal) message.refusal = step.refusal;
      if (step.type === 'tool_calls') message.tool_calls = step.calls.map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      const finish = step.type === 'tool_calls' ? 'tool_calls' : (step.finish_reason ?? 'stop');
      // The same per-piece logprobs a stream of this step carries.
      const logprobs = step.type === 'text' && step.logprobs && body.logprobs ? { content: (step.chunks ?? splitWords(step.text)).map((piece) => tokenLogprob(piece, body.top_logprobs)) } : null;
      return json(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish, logprobs }], usage });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = async (chunk: unknown) => {
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...(chunk as object) })}\n\n`);
      const delay = step.type === 'text' && step.delayMs !== undefined ? step.delayMs : this.chunkDelayMs;
      if (delay) await new Promise((r) => setTimeout(r, delay));
    };
    const choice = (delta: unknown, finish_reason: string | null = null) => ({ choices: [{ index: 0, delta, finish_reason, logprobs: null }] });
    await send(choice({ role: 'assistant', content: '' }));
    if (step.type === 'text') {
      if (step.reasoning) await send(choice({ reasoning_content: step.reasoning }));
      if (step.refusal) await send(choice({ refusal: step.refusal }));
      for (const piece of step.chunks ?? splitWords(step.text)) {
        if (step.logprobs && body.logprobs) {
          await send({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null, logprobs: { content: [tokenLogprob(piece, body.top_logprobs)] } }] });
        } else {
          await send(choice({ content: piece }));
        }
      }
      await send(choice({}, step.finish_reason ?? 'stop'));
    } else {
      if (step.text) await send(choice({ content: step.text }));
      for (const [i, call] of step.calls.entries()) {
        const half = Math.ceil(call.arguments.length / 2);
        await send(choice({ tool_calls: [{ index: i, id: call.id ?? `call_${i}`, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }] }));
        await send(choice({ tool_calls: [{ index: i, function: { arguments: call.arguments.slice(half) } }] }));
      }
      await send(choice({}, 'tool_calls'));
    }
    if (body.stream_options?.include_usage) await send({ choices: [], usage });
    res.end('data: [DONE]\n\n');
  }

  private async embeddings(body: any, res: ServerResponse): Promise<void> {
    // mock-embed-words-slow: the same vectors, 150 ms a call (a file that takes a while to ingest).
    if (body?.model === 'mock-embed-words-slow') await new Promise((r) => setTimeout(r, 150));
    if (!this.models.includes(body?.model)) {
      return json(res, 404, { error: { message: `mock: model '${body?.model}' not found`, code: 'model_not_found' } });
    }
    const inputs: unknown[] = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
    // mock-embed-words: a hashed bag of words, so texts sharing words are near (relevance tests).
    const embed = (input: unknown) =>
      body.model.startsWith('mock-embed-words') ? wordEmbedding(String(input), Math.min(Number(body.dimensions) || 64, 4096)) : fakeEmbedding(JSON.stringify(input), Math.min(Number(body.dimensions) || 8, 4096));
    const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: embed(input) }));
    json(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } });
  }
}

/** The mock's logprob of one streamed piece, with `top` alternatives. */
function tokenLogprob(piece: string, top: number | undefined) {
  const alternatives = Array.from({ length: top ?? 0 }, (_, i) => ({ token: `${piece}#${i}`, logprob: -1 - i, bytes: null }));
  return { token: piece, logprob: -0.5, bytes: [...Buffer.from(piece)], top_logprobs: alternatives };
}

/** A deterministic unit-ish vector derived from the text, so tests can predict it. */
export function fakeEmbedding(text: string, dims: number): number[] {
  const out: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < dims; i++) {
    for (const ch of `${i}:${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    out.push(((h >>> 0) % 2000) / 1000 - 1);
  }
  return out;
}

/** Word counts hashed into `dims` buckets: cosine similarity follows shared words. */
export function wordEmbedding(text: string, dims: number): number[] {
  const out = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    out[(h >>> 0) % dims]! += 1;
  }
  return out;
}

function lastUserText(messages: any[]): string {
  const last = [...(Array.isArray(messages) ? messages : [])].reverse().find((m) => m?.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return '';
  return last.content.filter((p: any) => p?.type === 'text').map((p: any) => String(p.text)).join(' ');
}

function splitWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

async function writeRaw(res: ServerResponse, reply: RawReply): Promise<void> {
  res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
  const write = async (text: string) => {
    if (res.destroyed) return;
    if (res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  await write(reply.prefix ?? '');
  const fill = reply.fill || 'x';
  const chunk = fill.repeat(Math.max(1, Math.floor(65536 / fill.length)));
  for (let sent = 0; sent < (reply.fillBytes ?? 0) && !res.destroyed; sent += chunk.length) await write(chunk);
  if (!res.destroyed) res.end(reply.suffix ?? '');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Talks to a mock in another process through its control API. */
export class MockControl {
  constructor(readonly origin: string) {}

  private async post(path: string, body: unknown = {}): Promise<any> {
    const res = await fetch(`${this.origin}/__control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return res.json();
  }

  enqueue(...steps: ChatScript[]): Promise<void> {
    return this.post('script', { steps });
  }

  reset(): Promise<void> {
    return this.post('reset');
  }

  /** The next request to `reply.path` gets this raw reply (see RawReply). */
  raw(reply: RawReply): Promise<void> {
    return this.post('raw', reply);
  }

  setModelsDown(down: boolean): Promise<void> {
    return this.post('models-down', { down });
  }

  async requests(path?: string): Promise<RecordedRequest[]> {
    const all = (await this.post('requests')).requests as RecordedRequest[];
    return path ? all.filter((r) => r.path === path) : all;
  }

  async abortedCount(): Promise<number> {
    return (await this.post('requests')).aborted as number;
  }
}
