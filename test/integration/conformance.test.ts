import LlamaStackClient from 'llama-stack-client';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_DEVIATIONS } from '@rgw/shared';
import { mock, platforms } from '../support/context.js';
import { TEST_KEY } from '../support/auth.js';
import { waitFor } from '../support/wait.js';
import { OGX, OPENAI, OURS, SpecValidator, branchPointer, recordingFetch, sseData, type Exchange } from '../support/conformance.js';

const openai = new SpecValidator('openai', OPENAI, '/v1');
const ogx = new SpecValidator('ogx', OGX, '');
const ours = new SpecValidator('ours', OURS, '');

/** What one answer was checked against, and what did not hold. */
interface Finding {
  spec: string;
  where: string;
  problems: string[];
}

/**
 * Every answer of a real session with the platform (through the official SDKs, recorded) checked
 * against OpenAI's own schemas (prompts and introspection against Llama Stack's) and against our own
 * description: each JSON body, each error envelope, each event of the responses and chat streams.
 * Differences are allowed only where BODY_DEVIATIONS names them.
 */
describe.each(platforms)('conformance with the reference specs ($mode)', (p) => {
  const recorded: Promise<Exchange>[] = [];
  const client = new OpenAI({ baseURL: p.baseURL, apiKey: TEST_KEY, maxRetries: 0, fetch: recordingFetch(recorded) });
  const llama = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0, fetch: recordingFetch(recorded) as any });
  let exchanges: Exchange[] = [];
  const findings: Finding[] = [];
  const used = new Set<string>();

  beforeAll(async () => {
    await mock.reset();
    await exerciseEveryEndpoint(client, llama, p.baseURL, recordingFetch(recorded));
    exchanges = await Promise.all(recorded);
    for (const x of exchanges) findings.push(...check(x, used));
  }, 120_000);
  afterAll(() => mock.reset());

  it('exercised every operation that OpenAI and we both have', () => {
    const seen = new Set(exchanges.map((x) => `${x.method} ${openai.templateOf(x.path)}`));
    const missing: string[] = [];
    for (const [path, item] of Object.entries(OURS.paths)) {
      const theirs = openai.templateOf(path.replace(/\{[^}]+\}/g, 'x'));
      for (const method of Object.keys(item)) if (theirs && OPENAI.paths[theirs]?.[method] && !seen.has(`${method} ${theirs}`)) missing.push(`${method.toUpperCase()} ${path}`);
    }
    expect(missing).toEqual([]);
  });

  it('answers as OpenAI and Llama Stack describe, except where a deviation is listed', () => {
    const failures = findings.filter((f) => f.spec !== 'ours' && f.problems.length);
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    expect(findings.filter((f) => f.spec !== 'ours').length).toBeGreaterThan(60);
    expect(new Set(findings.map((f) => f.spec))).toEqual(new Set(['openai', 'ogx', 'ours']));
    // Each event of both streams was checked on its own.
    const events = findings.filter((f) => f.spec === 'openai').map((f) => f.where);
    expect(events).toContain('POST /v1/responses 200 event response.output_text.delta');
    expect(events).toContain('POST /v1/responses 200 event response.reasoning_text.delta');
    expect(events).toContain('POST /v1/chat/completions 200 event chat.completion.chunk');
  });

  it('answers as our own description says', () => {
    const failures = findings.filter((f) => f.spec === 'ours' && f.problems.length);
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    expect(findings.filter((f) => f.spec === 'ours').length).toBeGreaterThan(60);
  });

  it('lists no deviation that nothing needs any more', () => {
    expect(BODY_DEVIATIONS.filter((d) => !used.has(d.match.source)).map((d) => d.match.source)).toEqual([]);
  });
});

/** The checks of one recorded answer against each spec that describes it. */
function check(x: Exchange, used: Set<string>): Finding[] {
  const media = x.contentType.startsWith('text/event-stream') ? 'text/event-stream' : x.contentType.startsWith('application/json') ? 'application/json' : undefined;
  if (!media) return [];
  const values = media === 'text/event-stream' ? sseData(x.body) : [JSON.parse(x.body) as unknown];
  const out: Finding[] = [];
  for (const validator of [openai, ogx, ours]) {
    const template = validator.templateOf(x.path);
    if (!template) continue;
    const pointer = validator.pointer(x.method, template, x.status, media);
    if (!pointer) continue;
    const opId = (OURS.paths[ourTemplate(x.path) ?? '']?.[x.method]?.operationId as string | undefined) ?? `${x.method} ${x.path}`;
    for (const value of values) {
      const at = branchPointer(validator.spec, pointer, value);
      const where = `${x.method.toUpperCase()} ${x.path} ${x.status}${media === 'text/event-stream' ? ` event ${(value as { type?: string }).type ?? (value as { object?: string }).object}` : ''}`;
      const problems = validator.errors(at, value).map((e) => `${opId} ${e}`).filter((line) => validator === ours || !allowed(line, used));
      out.push({ spec: validator.name, where, problems });
    }
  }
  return out;
}

function ourTemplate(path: string): string | undefined {
  return ours.templateOf(path);
}

function allowed(line: string, used: Set<string>): boolean {
  const deviation = BODY_DEVIATIONS.find((d) => d.match.test(line));
  if (deviation) used.add(deviation.match.source);
  return !!deviation;
}

/** One call of every operation we serve (most through the SDKs), each kind of answer at least once. */
async function exerciseEveryEndpoint(client: OpenAI, llama: LlamaStackClient, baseURL: string, fetchRecorded: typeof fetch): Promise<void> {
  // Models and inference.
  await client.models.list();
  await client.models.retrieve('mock-model');
  await client.models.retrieve('no-such-model').catch(() => {});
  await mock.enqueue({ type: 'text', text: 'Hello there' }, { type: 'text', text: 'Streamed hello', chunks: ['Streamed', ' hello'] });
  await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });
  for await (const _ of await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }], stream: true })) void _;
  await client.embeddings.create({ model: 'mock-embed', input: ['one', 'two'] });

  // Responses: plain, streamed, with a function call, background and cancelled.
  await mock.enqueue(
    { type: 'text', text: 'A plain answer' },
    { type: 'text', text: 'A streamed answer', chunks: ['A streamed', ' answer'], reasoning: 'thinking' },
    { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] },
  );
  const plain = await client.responses.create({ model: 'mock-model', input: 'hello', metadata: { k: 'v' } });
  for await (const _ of await client.responses.create({ model: 'mock-model', input: 'hello', stream: true })) void _;
  await client.responses.create({
    model: 'mock-model',
    input: 'weather?',
    tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
  });
  await client.responses.retrieve(plain.id);
  await client.responses.inputItems.list(plain.id);
  await client.responses.inputTokens.count({ model: 'mock-model', input: 'count me' });
  await client.get('/responses', { query: { limit: 2 } });
  await mock.enqueue({ type: 'hang' });
  const background = await client.responses.create({ model: 'mock-model', input: 'slow', background: true });
  await client.responses.cancel(background.id);
  await client.responses.delete(plain.id);
  await client.responses.retrieve(plain.id).catch(() => {});

  // Conversations.
  const conv = await client.conversations.create({ metadata: { a: 'b' }, items: [{ type: 'message', role: 'user', content: 'hi' }] });
  await client.conversations.retrieve(conv.id);
  await client.conversations.update(conv.id, { metadata: { a: 'c' } });
  const added = await client.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'yo' }] } as any] });
  await client.conversations.items.list(conv.id);
  await client.conversations.items.retrieve(added.data[0]!.id!, { conversation_id: conv.id });
  await client.conversations.items.delete(added.data[0]!.id!, { conversation_id: conv.id });
  await client.get('/conversations', { query: { limit: 2 } });
  await client.conversations.delete(conv.id);

  // Files and uploads.
  const file = await client.files.create({ file: await toFile(Buffer.from('Rockets need engines to reach orbit.'), 'notes.txt'), purpose: 'assistants' });
  // `evals` is an upload purpose the File object's enum leaves out (a listed deviation).
  const evals = await client.files.create({ file: await toFile(Buffer.from('{"q":1}'), 'evals.jsonl'), purpose: 'evals' });
  await client.files.list();
  await client.files.retrieve(file.id);
  await client.files.retrieve(evals.id);
  await (await client.files.content(file.id)).text();
  const upload = await client.uploads.create({ bytes: 5, filename: 'u.txt', mime_type: 'text/plain', purpose: 'assistants' });
  const part = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('hello'), 'part') });
  const done = await client.uploads.complete(upload.id, { part_ids: [part.id] });
  const other = await client.uploads.create({ bytes: 5, filename: 'v.txt', mime_type: 'text/plain', purpose: 'assistants' });
  await client.uploads.cancel(other.id);

  // Vector stores, their files, batches and search.
  const store = await client.vectorStores.create({ name: 'conformance', metadata: { k: 'v' } });
  await client.vectorStores.list();
  await client.vectorStores.update(store.id, { name: 'renamed' });
  await client.vectorStores.files.create(store.id, { file_id: file.id, attributes: { topic: 'space' } });
  await waitFor(() => client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id }), (f) => f.status !== 'in_progress');
  await client.vectorStores.files.list(store.id);
  await client.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { topic: 'orbit' } });
  await client.vectorStores.files.content(file.id, { vector_store_id: store.id });
  await client.vectorStores.search(store.id, { query: 'rockets' });
  const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: [done.file!.id] });
  await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id });
  await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
  await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
  await client.vectorStores.retrieve(store.id);
  await client.vectorStores.files.delete(file.id, { vector_store_id: store.id });
  await client.vectorStores.delete(store.id);
  await client.files.delete(file.id);
  await client.files.delete(done.file!.id);

  // Prompts and introspection, through Llama Stack's client.
  const prompt = await llama.prompts.create({ prompt: 'Hello {{ name }}', variables: ['name'] });
  await llama.prompts.list();
  await llama.prompts.retrieve(prompt.prompt_id);
  await llama.prompts.update(prompt.prompt_id, { prompt: 'Hi {{ name }}', variables: ['name'], version: 1, set_as_default: true });
  await llama.prompts.setDefaultVersion(prompt.prompt_id, { version: 1 });
  await llama.prompts.versions.list(prompt.prompt_id);
  await llama.prompts.delete(prompt.prompt_id);
  await llama.inspect.version();
  await llama.routes.list();
  // An error envelope from a path the SDK has no call for.
  await fetchRecorded(`${baseURL}/vector_stores/vs_missing`, { headers: { authorization: `Bearer ${TEST_KEY}` } }).then((r) => r.text());
}
