import { chunkText } from '../services/vector-stores/src/ingest/index.js';
import { EMBED_DIM, EMBED_MODEL } from './bench-embedder.js';
import { p50 } from './chat-sections.js';
import { probe, send, type Probe, type Timing } from './load.js';
import { startEmbedded } from './processes.js';
import type { Section } from './report.js';
import { api, attachBatch, generatedText, queryWords, uploadFile } from './vector-bench-support.js';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const CHUNKS = num('BENCH_FILE_SEARCH_CHUNKS', 10_000);
const SAMPLES = num('BENCH_FILE_SEARCH_SAMPLES', 200);
const WARMUP = num('BENCH_FILE_SEARCH_WARMUP', 20);
const FILES = 10;
/** Small static chunks, so that 10,000 of them take ~5 MB of text rather than ~40 MB at auto. */
const CHUNKING = { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } };

async function chunksIn(bytes: Buffer): Promise<number> {
  let n = 0;
  for await (const _ of chunkText([bytes.toString('utf8')], { maxTokens: 100, overlapTokens: 0 })) n++;
  return n;
}

async function timedOk(p: Probe): Promise<Timing> {
  const t = await send(p);
  if (t.status !== 200) throw new Error(`${p.url.pathname} answered HTTP ${t.status}`);
  return t;
}

/**
 * Section 9: a stored response whose model calls file_search once over a store of 10,000 chunks,
 * against the same response without the tool, taking turns request by request (embedded mode).
 * The bench mock is scripted before each tool request: a `file_search` tool call, then text. The
 * difference holds the search (query embedding + index search + tool message) and the second model
 * call, whose direct cost is shown on its own row; the search endpoint alone is shown too.
 */
export async function fileSearchSection(mock: { url: string }, env: Record<string, string>, print: (s: Section) => void): Promise<void> {
  const title = `9. file_search in a stored response (embedded), ${CHUNKS} chunks`;
  const platform = await startEmbedded({ ...env, EMBEDDING_MODEL: EMBED_MODEL }, []);
  try {
    const origin = platform.url;
    // Fill the store: FILES generated files sized to hold CHUNKS chunks of 100 tokens between them.
    const sample = generatedText(256 * 1024, 99);
    const bytesPerChunk = sample.length / (await chunksIn(sample));
    const perFile = Math.ceil((CHUNKS / FILES) * bytesPerChunk);
    const ids: string[] = [];
    let chunks = 0;
    for (let i = 0; i < FILES; i++) {
      const bytes = generatedText(perFile, 1000 + i);
      chunks += await chunksIn(bytes);
      ids.push(await uploadFile(origin, `doc-${i}.txt`, bytes));
    }
    const store = await api(origin, 'POST', '/v1/vector_stores', { name: 'bench-file-search' });
    const fill = await attachBatch(origin, store.id, ids, CHUNKING);

    const tools = [{ type: 'file_search', vector_store_ids: [store.id] }];
    const script = (q: string) =>
      api(mock.url, 'POST', '/__control/script', {
        steps: [
          { type: 'tool_calls', calls: [{ name: 'file_search', arguments: JSON.stringify({ queries: [q] }), id: 'call_bench' }] },
          { type: 'text', text: 'The answer.' },
        ],
      });
    // Check once that the tool really searched and found something, or the timings mean nothing.
    await script(queryWords(0));
    const checked = await api(origin, 'POST', '/v1/responses', { model: 'mock-model', input: 'q', tools, include: ['file_search_call.results'] });
    const call = (checked.output as { type: string; status: string; results: unknown[] | null }[]).find((o) => o.type === 'file_search_call');
    if (checked.status !== 'completed' || call?.status !== 'completed' || !call.results?.length) {
      print({ title, rows: [], skipped: `the file_search response did not search as scripted: ${JSON.stringify(checked).slice(0, 300)}` });
      return;
    }

    const withTool: Timing[] = [];
    const without: Timing[] = [];
    const search: Timing[] = [];
    const chat: Timing[] = [];
    const plain = probe(origin, '/v1/responses', { model: 'mock-model', input: 'q' });
    const chatDirect = probe(mock.url, '/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'q' }] });
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const q = queryWords(i + 1);
      await script(q);
      const tool = probe(origin, '/v1/responses', { model: 'mock-model', input: q, tools });
      const searchOnly = probe(origin, `/v1/vector_stores/${store.id}/search`, { query: q });
      // The order rotates, so that load from elsewhere hits each kind alike.
      const order = i % 2 ? [tool, plain, searchOnly, chatDirect] : [plain, tool, chatDirect, searchOnly];
      const timings = new Map<Probe, Timing>();
      for (const p of order) timings.set(p, await timedOk(p));
      if (i < WARMUP) continue;
      withTool.push(timings.get(tool)!);
      without.push(timings.get(plain)!);
      search.push(timings.get(searchOnly)!);
      chat.push(timings.get(chatDirect)!);
    }
    print({
      title,
      note:
        `${chunks} chunks (static 100 tokens, 0 overlap, ${FILES} files, filled through the worker in ${fill.seconds.toFixed(1)} s), ${EMBED_DIM}-dim hashed vectors, ${SAMPLES} requests each; ` +
        `direct = the same stored response without tools; gateway = with file_search (the model asks for one search, then answers); ` +
        `the added time also holds the second model call (its direct cost: row 2). Row 3 is POST /v1/vector_stores/{id}/search alone (top 10).`,
      rows: [
        { metric: 'stored response + one file_search, p50', unit: 'ms', direct: p50(without), gateway: p50(withTool), kind: 'added', target: 15 },
        { metric: 'one more chat completion straight to the mock, p50', unit: 'ms', direct: 0, gateway: p50(chat), kind: 'added' },
        { metric: 'vector store search endpoint, p50', unit: 'ms', direct: 0, gateway: p50(search), kind: 'added' },
      ],
    });
  } finally {
    await platform.stop();
  }
}
