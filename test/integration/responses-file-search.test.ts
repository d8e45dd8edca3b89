import OpenAI, { toFile } from 'openai';
import type { ResponseFileSearchToolCall, ResponseOutputMessage, ResponseOutputText } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { TEST_KEY_B } from '../support/auth.js';
import { mock, openai, platforms } from '../support/context.js';

// file_search through the official SDK against the running platform: upload → vector store →
// a response whose scripted model calls the tool and cites what it found. Needs the Files and
// Vector Stores services (issue 11).

const WARRANTY = 'The warranty for the Model X kettle lasts for three years from the date of purchase.';
const RETURNS = 'Returns of unused items are accepted within thirty days with the original receipt.';

type Client = OpenAI;

async function upload(client: Client, name: string, text: string | Buffer): Promise<string> {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
  return file.id;
}

/** A vector store holding the given files, every file ingested. */
async function storeWith(client: Client, files: { name: string; text: string; attributes?: Record<string, string> }[]): Promise<{ id: string; fileIds: string[] }> {
  const store = await client.vectorStores.create({ name: `fs-test-${Date.now()}` });
  const fileIds: string[] = [];
  for (const f of files) {
    const id = await upload(client, f.name, f.text);
    const vsFile = await client.vectorStores.files.createAndPoll(store.id, { file_id: id, ...(f.attributes ? { attributes: f.attributes } : {}) }, { pollIntervalMs: 50 });
    expect(vsFile.status).toBe('completed');
    fileIds.push(id);
  }
  return { id: store.id, fileIds };
}

const search = (queries: string[], id = 'call_fs1') => ({ type: 'tool_calls' as const, calls: [{ name: 'file_search', arguments: JSON.stringify({ queries }), id }] });
const messageOf = (r: { output: unknown[] }) => r.output.find((o) => (o as { type: string }).type === 'message') as ResponseOutputMessage;
const textPart = (r: { output: unknown[] }) => messageOf(r).content[0] as ResponseOutputText;

/** Every citation is a file_citation of a retrieved file, inside the text. */
function expectValidCitations(part: ResponseOutputText, retrieved: string[]): void {
  for (const a of part.annotations) {
    expect(a.type).toBe('file_citation');
    const c = a as { file_id: string; index: number; filename: string };
    expect(retrieved).toContain(c.file_id);
    expect(c.index).toBeGreaterThanOrEqual(0);
    expect(c.index).toBeLessThanOrEqual([...part.text].length);
  }
  expect(part.text).not.toMatch(/【|】/);
}

describe.each(platforms)('responses: file_search ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('answers with a file_search_call and citations (results omitted)', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    await mock.enqueue(search(['kettle warranty']), { type: 'text', text: 'The kettle has a three-year warranty【0:0†warranty.txt】.' });
    const r = await client.responses.create({ model: 'mock-model', input: 'How long is the warranty?', tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    expect(r.status).toBe('completed');
    const call = r.output[0] as ResponseFileSearchToolCall;
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed', queries: ['kettle warranty'], results: null });
    expect(call.id).toMatch(/^fs_/);
    const part = textPart(r);
    expect(part.text).toBe('The kettle has a three-year warranty.');
    expect(part.annotations).toEqual([{ type: 'file_citation', file_id: vs.fileIds[0], filename: 'warranty.txt', index: 36 }]);
    expect(r.output_text).toBe(part.text);
    // The model read the chunk behind its marker.
    const [, second] = await mock.requests('/v1/chat/completions');
    expect(second!.body.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_fs1' });
    expect(second!.body.messages.at(-1).content).toContain(`【0:0†warranty.txt】\n${WARRANTY}`);
    // The SDK adds output_text to what it returns from create and retrieve alike: compare the wire objects.
    expect({ ...(await client.responses.retrieve(r.id)), output_text: undefined }).toEqual({ ...r, output_text: undefined });
  });

  it('includes the results when asked', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY, attributes: { product: 'kettle' } }]);
    await mock.enqueue(search(['warranty']), { type: 'text', text: 'Three years.' });
    const r = await client.responses.create({ model: 'mock-model', input: 'q', include: ['file_search_call.results'], tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    const call = r.output[0] as ResponseFileSearchToolCall;
    expect(call.results).toHaveLength(1);
    expect(call.results![0]).toMatchObject({ file_id: vs.fileIds[0], filename: 'warranty.txt', text: expect.stringContaining('three years'), attributes: { product: 'kettle' } });
    expect(typeof call.results![0]!.score).toBe('number');
    const again = await client.responses.retrieve(r.id, { include: ['file_search_call.results'] });
    expect((again.output[0] as ResponseFileSearchToolCall).results).toEqual(call.results);
    expect(((await client.responses.retrieve(r.id)).output[0] as ResponseFileSearchToolCall).results).toBeNull();
  });

  it('streams the events in order, markers split across deltas, and finalResponse equals the stored response', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    await mock.enqueue(search(['warranty']), { type: 'text', text: 'x', chunks: ['Three years【', '0:', '0†warr', 'anty.txt', '】 from purchase.'] });
    const stream = client.responses.stream({ model: 'mock-model', input: 'q', include: ['file_search_call.results'], tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    const types: string[] = [];
    const seqs: number[] = [];
    stream.on('event', (e) => {
      types.push(e.type);
      seqs.push(e.sequence_number);
    });
    const final = await stream.finalResponse();
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const first = types.indexOf('response.output_item.added');
    expect(types.slice(first, first + 5)).toEqual([
      'response.output_item.added',
      'response.file_search_call.in_progress',
      'response.file_search_call.searching',
      'response.file_search_call.completed',
      'response.output_item.done',
    ]);
    expect(types.filter((t) => t === 'response.output_text.annotation.added')).toHaveLength(1);
    const part = textPart(final);
    expect(part.text).toBe('Three years from purchase.');
    expect(part.annotations).toEqual([{ type: 'file_citation', file_id: vs.fileIds[0], filename: 'warranty.txt', index: 11 }]);
    const stored = await client.responses.retrieve(final.id, { include: ['file_search_call.results'] });
    const strip = (o: unknown) => JSON.parse(JSON.stringify(o, (k, v) => (k === 'output_text' || k === 'output_parsed' || k === 'parsed' ? undefined : v)));
    expect(strip(final)).toEqual(strip(stored));
  });

  it('cites retrieved text the model used without a marker (overlap fallback)', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    await mock.enqueue(search(['warranty']), { type: 'text', text: `Per the manual: ${WARRANTY}` });
    const r = await client.responses.create({ model: 'mock-model', input: 'q', tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    const part = textPart(r);
    expect(part.annotations).toHaveLength(1);
    expect(part.annotations[0]).toMatchObject({ type: 'file_citation', file_id: vs.fileIds[0], filename: 'warranty.txt' });
    expectValidCitations(part, vs.fileIds);
  });

  it('drops markers that name nothing retrieved', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    await mock.enqueue(search(['warranty']), { type: 'text', text: 'Made up【7:3†secret.pdf】.' });
    const r = await client.responses.create({ model: 'mock-model', input: 'q', tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    expect(textPart(r)).toMatchObject({ text: 'Made up.', annotations: [] });
  });

  it('forces a search with tool_choice file_search or required', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    await mock.enqueue(search(['w']), { type: 'text', text: 'ok' }, search(['w'], 'call_2'), { type: 'text', text: 'ok' });
    await client.responses.create({ model: 'mock-model', input: 'q', tool_choice: { type: 'file_search' }, tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    await client.responses.create({ model: 'mock-model', input: 'q', tool_choice: 'required', tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[0]!.body.tool_choice).toEqual({ type: 'function', function: { name: 'file_search' } });
    expect(reqs[2]!.body.tool_choice).toBe('required');
  });

  it('searches several vector stores in one tool and cites both', async () => {
    const a = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    const b = await storeWith(client, [{ name: 'returns.txt', text: RETURNS }]);
    await mock.enqueue(search(['warranty and returns']), { type: 'text', text: 'First【0:0】, second【0:1】.' });
    const r = await client.responses.create({
      model: 'mock-model',
      input: 'q',
      include: ['file_search_call.results'],
      tools: [{ type: 'file_search', vector_store_ids: [a.id, b.id] }],
    });
    const results = (r.output[0] as ResponseFileSearchToolCall).results!;
    expect(results.map((x) => x.file_id).sort()).toEqual([a.fileIds[0], b.fileIds[0]].sort());
    const part = textPart(r);
    expect(part.annotations.map((x) => (x as { file_id: string }).file_id).sort()).toEqual([a.fileIds[0], b.fileIds[0]].sort());
    expectValidCitations(part, [...a.fileIds, ...b.fileIds]);
  });

  it('applies filters and max_num_results in the search', async () => {
    const vs = await storeWith(client, [
      { name: 'en.txt', text: WARRANTY, attributes: { lang: 'en' } },
      { name: 'fr.txt', text: 'La garantie dure trois ans.', attributes: { lang: 'fr' } },
    ]);
    await mock.enqueue(search(['garantie']), { type: 'text', text: 'ok' }, search(['warranty'], 'call_2'), { type: 'text', text: 'ok' });
    const filtered = await client.responses.create({
      model: 'mock-model',
      input: 'q',
      include: ['file_search_call.results'],
      tools: [{ type: 'file_search', vector_store_ids: [vs.id], filters: { type: 'eq', key: 'lang', value: 'fr' } }],
    });
    expect((filtered.output[0] as ResponseFileSearchToolCall).results!.map((x) => x.filename)).toEqual(['fr.txt']);
    const capped = await client.responses.create({ model: 'mock-model', input: 'q', include: ['file_search_call.results'], tools: [{ type: 'file_search', vector_store_ids: [vs.id], max_num_results: 1 }] });
    expect((capped.output[0] as ResponseFileSearchToolCall).results).toHaveLength(1);
  });

  it('replays earlier searches on later turns (previous_response_id and conversation)', async () => {
    const vs = await storeWith(client, [{ name: 'warranty.txt', text: WARRANTY }]);
    const tools = [{ type: 'file_search' as const, vector_store_ids: [vs.id] }];
    await mock.enqueue(search(['warranty']), { type: 'text', text: 'Three years.' }, { type: 'text', text: 'As I said.' });
    const first = await client.responses.create({ model: 'mock-model', input: 'Warranty?', include: ['file_search_call.results'], tools });
    await client.responses.create({ model: 'mock-model', previous_response_id: first.id, input: 'Again?', tools });
    const reqs = await mock.requests('/v1/chat/completions');
    const replay = reqs[2]!.body.messages as { role: string; content: unknown; tool_calls?: { function: { name: string } }[] }[];
    expect(replay.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(replay[1]!.tool_calls![0]!.function.name).toBe('file_search');
    expect(replay[2]!.content).toContain('three years');

    await mock.reset();
    const conv = await client.conversations.create({});
    await mock.enqueue(search(['warranty']), { type: 'text', text: 'Three years.' }, { type: 'text', text: 'Still three.' });
    await client.responses.create({ model: 'mock-model', conversation: conv.id, input: 'Warranty?', include: ['file_search_call.results'], tools });
    const items = await client.conversations.items.list(conv.id, { order: 'asc', include: ['file_search_call.results'] });
    const stored = items.data.find((i) => i.type === 'file_search_call') as ResponseFileSearchToolCall;
    expect(stored).toMatchObject({ status: 'completed', queries: ['warranty'] });
    expect(stored.results).toHaveLength(1);
    await client.responses.create({ model: 'mock-model', conversation: conv.id, input: 'And now?', tools });
    const last = (await mock.requests('/v1/chat/completions')).at(-1)!;
    expect(last.body.messages.some((m: { role: string; content: unknown }) => m.role === 'tool' && String(m.content).includes('three years'))).toBe(true);
  });

  it.each([
    [{ type: 'file_search', vector_store_ids: ['vs_doesnotexist'] }, 404, 'tools[0].vector_store_ids'],
    [{ type: 'file_search', vector_store_ids: [] }, 400, 'tools[0].vector_store_ids'],
    [{ type: 'file_search', vector_store_ids: ['vs_x'], max_num_results: 51 }, 400, 'tools[0].max_num_results'],
    [{ type: 'file_search', vector_store_ids: ['vs_x'], ranking_options: { ranker: 'nope' } }, 400, 'tools[0].ranking_options.ranker'],
  ])('refuses %j with %d naming %s, before any byte', async (tool, status, param) => {
    for (const stream of [false, true]) {
      const err = await client.responses.create({ model: 'mock-model', input: 'q', stream, tools: [tool as never] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toMatchObject({ status, param });
    }
    expect(await mock.requests('/v1/chat/completions')).toHaveLength(0);
  });

  it("treats another project's vector store as unknown", async () => {
    const vs = await storeWith(client, [{ name: 'w.txt', text: WARRANTY }]);
    const other = openai(p, { apiKey: TEST_KEY_B });
    const err = await other.responses.create({ model: 'mock-model', input: 'q', tools: [{ type: 'file_search', vector_store_ids: [vs.id] }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: 'tools[0].vector_store_ids' });
  });
});

describe.each(platforms)('responses: files as input ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('reads a text file by file_id into the model input', async () => {
    const id = await upload(client, 'notes.md', '# Notes\nThe door code is 4711.');
    await mock.enqueue({ type: 'text', text: '4711' });
    const r = await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Code?' }, { type: 'input_file', file_id: id }] }] });
    expect(r.status).toBe('completed');
    const [req] = await mock.requests('/v1/chat/completions');
    expect(JSON.stringify(req!.body.messages)).toContain('The door code is 4711.');
    // The stored input keeps the reference, not the content.
    const items = await client.responses.inputItems.list(r.id);
    expect(JSON.stringify(items.data)).toContain(id);
  });

  it('reads a PDF by file_id as text', async () => {
    const id = await upload(client, 'memo.pdf', minimalPdf('The PDF memo says hello'));
    await mock.enqueue({ type: 'text', text: 'hello' });
    const r = await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_file', file_id: id }] }] });
    expect(r.status).toBe('completed');
    const [req] = await mock.requests('/v1/chat/completions');
    expect(JSON.stringify(req!.body.messages)).toContain('The PDF memo says hello');
  });

  it('sends an image by file_id as a data URL', async () => {
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    const file = await client.files.create({ file: await toFile(png, 'dot.png'), purpose: 'vision' });
    await mock.enqueue({ type: 'text', text: 'a dot' });
    await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_image', file_id: file.id, detail: 'auto' }] }] });
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body.messages[0].content).toEqual([{ type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }]);
  });

  it('refuses unknown files and unreadable types with a 4xx naming the part', async () => {
    const bin = await upload(client, 'blob.bin', Buffer.from([0, 1, 2, 254, 255]));
    const cases: [Record<string, unknown>, number, string][] = [
      [{ type: 'input_file', file_id: 'file-doesnotexist' }, 404, 'input[0].content[1].file_id'],
      [{ type: 'input_image', file_id: 'file-doesnotexist' }, 404, 'input[0].content[1].file_id'],
      [{ type: 'input_file', file_id: bin }, 400, 'input[0].content[1].file_id'],
      [{ type: 'input_image', file_id: bin }, 400, 'input[0].content[1].file_id'],
    ];
    for (const [part, status, param] of cases) {
      const err = await client.responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_text', text: 'x' }, part as never] }] }).catch((e: unknown) => e);
      expect(err, JSON.stringify(part)).toMatchObject({ status, param });
    }
    expect(await mock.requests('/v1/chat/completions')).toHaveLength(0);
  });

  it("treats another project's file as unknown", async () => {
    const id = await upload(client, 'private.txt', 'mine');
    const err = await openai(p, { apiKey: TEST_KEY_B })
      .responses.create({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_file', file_id: id }] }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: 'input[0].content[0].file_id' });
  });
});

/** A one-page PDF showing `text` in Helvetica, with a correct xref table. */
function minimalPdf(text: string): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
