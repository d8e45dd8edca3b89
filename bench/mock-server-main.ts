import type { IncomingMessage, ServerResponse } from 'node:http';
import { MockModelServer } from '../test/support/mock-model-server.js';
import { EMBED_DIM, EMBED_MODEL, hashedEmbeddingJson } from './bench-embedder.js';

// The zero-delay model server of the benchmark, in a process of its own so that it does not share
// an event loop with the load generator. PORT is chosen by the parent.
const mock = await MockModelServer.start(
  { models: ['mock-model', 'mock-embed', 'mock-embed-words', 'mock-embed-words-slow', EMBED_MODEL] },
  Number(process.env.PORT ?? 0),
);

// Embeddings: the test mock hashes every character for every dimension, which would make the model
// the bottleneck of the ingest sections. The bench answers every /v1/embeddings call itself with
// bench-embedder.ts's constant-time vectors, built as JSON text. Everything else is the test mock's.
// (Its request handler is private; the bench replaces it on this one instance.)
type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
const inner = mock as unknown as { handle: Handler };
const original = inner.handle.bind(mock);
inner.handle = async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/embeddings') return original(req, res);
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { input: unknown; dimensions?: number };
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims = Number(body.dimensions) || EMBED_DIM;
  const data = inputs.map((input, index) => `{"object":"embedding","index":${index},"embedding":${hashedEmbeddingJson(String(input), dims)}}`);
  const text = `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(EMBED_MODEL)},"usage":{"prompt_tokens":${inputs.length},"total_tokens":${inputs.length}}}`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

// The mock records every request for the tests' assertions; under load that list would grow without
// bound and make the mock slower (GC) as the run goes on, which would skew later measurements.
setInterval(() => {
  mock.requests.length = 0;
}, 500).unref();

const stop = () => void mock.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
