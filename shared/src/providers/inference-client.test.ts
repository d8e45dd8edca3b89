import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache } from '../cache/memory-cache.js';
import { ApiError } from '../errors.js';
import { createLogger } from '../logging.js';
import { InferenceClient } from './inference-client.js';
import { ModelCatalog } from './model-catalog.js';

// A model server that counts TCP connections and can break a stream off half way.
let connections = 0;
let server: http.Server;
let client: InferenceClient;
const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'ok' }, { id: 'breaks' }] }));
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const model = JSON.parse(body).model as string;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('a'));
      if (model === 'breaks') return void setTimeout(() => res.socket!.destroy(), 20);
      res.end(chunk('b') + 'data: [DONE]\n\n');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const provider = { id: 'p', baseUrl: `http://127.0.0.1:${port}/v1`, models: [], listModels: true };
  client = new InferenceClient(new ModelCatalog([provider], new MemoryCache(), 60_000, createLogger('t', 'silent')), { upstreamTimeoutMs: 5000 });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function collect(model: string): Promise<string> {
  let text = '';
  for await (const c of client.chatCompletionStream<{ choices: { delta: { content?: string } }[] }>({ model, messages: [] })) text += c.choices[0]!.delta.content ?? '';
  return text;
}

describe('InferenceClient.chatCompletionStream', () => {
  it('reads each stream to its end, so consecutive calls reuse one connection', async () => {
    await client.catalog.list();
    const before = connections;
    for (let i = 0; i < 5; i++) expect(await collect('ok')).toBe('ab');
    expect(connections - before).toBeLessThanOrEqual(1);
  });

  it('turns a stream the server breaks off into a 502 naming the provider', async () => {
    const err = (await collect('breaks').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
    expect(err.message).toContain("upstream provider 'p' broke off its reply");
  });
});
