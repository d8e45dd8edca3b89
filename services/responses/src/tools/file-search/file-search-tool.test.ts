import { ApiError, InvalidRequestError, NotFoundError, createLogger, type VectorStoreSearchRequest, type VectorStoreSearchResult } from '@rgw/shared';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../chat/chat-chunk.js';
import { planTools } from '../../chat/chat-request.js';
import { itemsToChatMessages } from '../../chat/items-to-chat.js';
import { generateResponse, type RunPlan } from '../../engine/response-engine.js';
import { withSequenceNumbers } from '../../engine/sequence.js';
import { newResponseObject } from '../../response/response-object.js';
import type { CreateResponseBody } from '../../wire/create-response-schema.js';
import type { ResponseItem, ResponseStreamEvent } from '../../wire/response-types.js';
import { ToolRegistry } from '../tool-registry.js';
import { FileSearchTool, type VectorStoreSearcher } from './file-search-tool.js';

const log = createLogger('test', 'silent');

const hit = (file_id: string, score: number, text: string, attributes: VectorStoreSearchResult['attributes'] = null): VectorStoreSearchResult => ({
  file_id,
  filename: `${file_id}.txt`,
  score,
  attributes,
  content: [{ type: 'text', text }],
});

/** A fake Vector Stores API: fixed results per store, every call recorded. */
function fakeStores(results: Record<string, VectorStoreSearchResult[] | Error>) {
  const searches: { id: string; body: VectorStoreSearchRequest; principal?: unknown }[] = [];
  const stores: VectorStoreSearcher = {
    async retrieve(id) {
      if (!(id in results)) throw new ApiError(404, `No vector store found with id '${id}'.`, { type: 'invalid_request_error' });
      return { id, object: 'vector_store' };
    },
    async search(id, body, opts) {
      searches.push({ id, body, principal: opts?.principal });
      const r = results[id];
      if (r instanceof Error) throw r;
      return { data: r ?? [] };
    },
  };
  return { stores, searches };
}

const STORES = {
  vs_a: [hit('file-a', 0.9, 'The warranty lasts for three years from the date of purchase.', { lang: 'en' }), hit('file-c', 0.2, 'Unrelated.')],
  vs_b: [hit('file-b', 0.95, 'Returns are accepted within thirty days.'), hit('file-a', 0.9, 'The warranty lasts for three years from the date of purchase.')],
};

const textChunks = (deltas: string[]): ChatChunk[] => [
  ...deltas.map((d) => ({ choices: [{ index: 0, delta: { content: d }, finish_reason: null }] })),
  { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
];
const searchCall = (args: unknown, id = 'call_fs'): ChatChunk[] => [
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, function: { name: 'file_search', arguments: JSON.stringify(args) } }] }, finish_reason: 'tool_calls' }] },
];

function fakeInference(steps: ChatChunk[][]) {
  const bodies: Record<string, any>[] = [];
  return {
    bodies,
    inference: {
      async *chatCompletionStream<T>(body: Record<string, unknown>): AsyncGenerator<T> {
        bodies.push(structuredClone(body));
        const step = steps.shift();
        if (!step) throw new Error('no scripted step left');
        for (const c of step) yield c as T;
      },
    } as never,
  };
}

function plan(body: Partial<CreateResponseBody>, tool: FileSearchTool, include: string[] = []): RunPlan {
  const full = { model: 'm', ...body } as CreateResponseBody;
  return {
    response: newResponseObject('resp_t', full, 0, 'in_progress'),
    messages: [{ role: 'user', content: 'warranty?' }],
    params: { model: 'm' },
    tools: planTools(full, new ToolRegistry([tool])),
    parallelToolCalls: true,
    maxToolCalls: full.max_tool_calls ?? null,
    truncation: 'disabled',
    logprobs: false,
    include,
    principal: { projectId: 'proj_1' },
  };
}

async function run(p: RunPlan, steps: ChatChunk[][]) {
  const fake = fakeInference(steps);
  const events: ResponseStreamEvent[] = [];
  for await (const e of withSequenceNumbers(generateResponse(p, { inference: fake.inference, log }, { signal: new AbortController().signal, throwBeforeOutput: false }))) events.push(e);
  return { events, bodies: fake.bodies, response: p.response };
}

const tool1 = (extra: Record<string, unknown> = {}) => ({ type: 'file_search', vector_store_ids: ['vs_a', 'vs_b'], ...extra });

describe('file_search: the tool call', () => {
  it('searches every store, merges by score, and streams the events in order', async () => {
    const { stores, searches } = fakeStores(STORES);
    const p = plan({ tools: [tool1({ max_num_results: 2 })] }, new FileSearchTool(stores));
    const { events, response, bodies } = await run(p, [searchCall({ queries: ['warranty', 'returns'] }), textChunks(['ok'])]);
    expect(searches.map((s) => s.id)).toEqual(['vs_a', 'vs_b']);
    expect(searches[0]).toMatchObject({ body: { query: ['warranty', 'returns'], max_num_results: 2 }, principal: { projectId: 'proj_1' } });
    expect(response.status).toBe('completed');
    const call = response.output[0]!;
    expect(call).toEqual({ id: expect.stringMatching(/^fs_/), type: 'file_search_call', status: 'completed', queries: ['warranty', 'returns'], results: null });
    const types = events.map((e) => e.type);
    const first = types.indexOf('response.output_item.added');
    expect(types.slice(first, first + 5)).toEqual([
      'response.output_item.added',
      'response.file_search_call.in_progress',
      'response.file_search_call.searching',
      'response.file_search_call.completed',
      'response.output_item.done',
    ]);
    expect(events[first + 1]).toMatchObject({ item_id: call.id, output_index: 0 });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    // The model read the two best chunks (deduplicated across stores), each behind its marker.
    const toolMessage = bodies[1]!.messages.at(-1);
    expect(toolMessage.role).toBe('tool');
    expect(toolMessage.content).toContain('【0:0†file-b.txt】\nReturns are accepted');
    expect(toolMessage.content).toContain('【0:1†file-a.txt】\nThe warranty');
    expect(toolMessage.content).not.toContain('Unrelated');
    expect(toolMessage.content.match(/The warranty/g)).toHaveLength(1);
  });

  it('includes the results when asked (file_search_call.results)', async () => {
    const { stores } = fakeStores(STORES);
    const { response } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores), ['file_search_call.results']), [searchCall({ queries: ['w'] }), textChunks(['ok'])]);
    expect((response.output[0] as ResponseItem).results).toEqual([
      { file_id: 'file-b', filename: 'file-b.txt', score: 0.95, text: 'Returns are accepted within thirty days.', attributes: null },
      { file_id: 'file-a', filename: 'file-a.txt', score: 0.9, text: 'The warranty lasts for three years from the date of purchase.', attributes: { lang: 'en' } },
      { file_id: 'file-c', filename: 'file-c.txt', score: 0.2, text: 'Unrelated.', attributes: null },
    ]);
  });

  it('passes filters and ranking options to every search', async () => {
    const { stores, searches } = fakeStores(STORES);
    const filters = { type: 'and', filters: [{ type: 'eq', key: 'lang', value: 'en' }] };
    const entry = tool1({ filters, ranking_options: { ranker: 'none', score_threshold: 0.5, hybrid_search: { embedding_weight: 1, text_weight: 1 } } });
    await run(plan({ tools: [entry] }, new FileSearchTool(stores)), [searchCall({ query: 'one query' }), textChunks(['ok'])]);
    for (const s of searches) expect(s.body).toEqual({ query: 'one query', max_num_results: 10, filters, ranking_options: { ranker: 'none', score_threshold: 0.5 } });
  });

  it('marks the call failed, tells the model, and completes when a store fails mid-response', async () => {
    const { stores } = fakeStores({ vs_a: STORES.vs_a, vs_b: new ApiError(503, 'index down') });
    const { response, bodies, events } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores)), [searchCall({ queries: ['w'] }), textChunks(['sorry'])]);
    expect(response.status).toBe('completed');
    expect(response.output[0]).toMatchObject({ type: 'file_search_call', status: 'failed', results: null });
    expect(bodies[1]!.messages.at(-1).content).toContain('The file search failed');
    expect(events.map((e) => e.type)).not.toContain('response.file_search_call.completed');
    expect(events.find((e) => e.type === 'response.output_item.done')).toMatchObject({ item: { status: 'failed' } });
  });

  it('fails a call without queries', async () => {
    const { stores } = fakeStores(STORES);
    const { response } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores)), [searchCall({ nothing: true }), textChunks(['ok'])]);
    expect(response.output[0]).toMatchObject({ status: 'failed', queries: [] });
  });

  it('counts searches against max_tool_calls', async () => {
    const { stores, searches } = fakeStores(STORES);
    const { bodies } = await run(plan({ tools: [tool1()], max_tool_calls: 1 }, new FileSearchTool(stores)), [searchCall({ queries: ['w'] }), textChunks(['ok'])]);
    expect(searches).toHaveLength(2); // one call, two stores
    expect(bodies[1]).not.toHaveProperty('tools');
  });
});

describe('file_search: citations', () => {
  it('turns markers split across deltas into annotations at their position, streamed with annotation_index', async () => {
    const { stores } = fakeStores(STORES);
    const deltas = ['Three years【', '0:1†file-a', '.txt】; thirty days【0', ':0†file-b.txt】. Bogus【9:9†x.txt】!'];
    const { response, events } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores)), [searchCall({ queries: ['w'] }), textChunks(deltas)]);
    const part = (response.output[1] as { content: { text: string; annotations: unknown[] }[] }).content[0]!;
    expect(part.text).toBe('Three years; thirty days. Bogus!');
    expect(part.annotations).toEqual([
      { type: 'file_citation', file_id: 'file-a', filename: 'file-a.txt', index: 11 },
      { type: 'file_citation', file_id: 'file-b', filename: 'file-b.txt', index: 24 },
    ]);
    const added = events.filter((e) => e.type === 'response.output_text.annotation.added');
    expect(added.map((e) => e.annotation_index)).toEqual([0, 1]);
    expect(added[0]).toMatchObject({ item_id: response.output[1]!.id, output_index: 1, content_index: 0, annotation: part.annotations[0] });
    const streamed = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
    expect(streamed).toBe(part.text);
    expect(events.find((e) => e.type === 'response.output_text.done')).toMatchObject({ text: part.text });
    expect(events.find((e) => e.type === 'response.content_part.done')).toMatchObject({ part: { annotations: part.annotations } });
  });

  it('cites retrieved text the model used without a marker (overlap fallback)', async () => {
    const { stores } = fakeStores(STORES);
    const { response } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores)), [
      searchCall({ queries: ['w'] }),
      textChunks(['In short, the warranty lasts for three ', 'years from the date of purchase.']),
    ]);
    const part = (response.output[1] as { content: { text: string; annotations: { file_id: string; index: number }[] }[] }).content[0]!;
    expect(part.annotations).toEqual([{ type: 'file_citation', file_id: 'file-a', filename: 'file-a.txt', index: part.text.length - 1 }]);
  });

  it("gives the SDK's stream helper a final response equal to the one built", async () => {
    const { stores } = fakeStores(STORES);
    const { events, response } = await run(plan({ tools: [tool1()] }, new FileSearchTool(stores), ['file_search_call.results']), [
      searchCall({ queries: ['w'] }),
      textChunks(['Three years【0:1†file-a.txt】.']),
    ]);
    const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://sdk.test/v1', fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }) });
    const final = await client.responses.stream({ model: 'm', input: 'hi' }).finalResponse();
    // The helper adds its parsing conveniences (output_text, output_parsed, parts' parsed); the rest must be ours, unchanged.
    const finalObject = JSON.parse(JSON.stringify(final, (k, v) => (k === 'output_text' || k === 'output_parsed' || k === 'parsed' ? undefined : v)));
    expect(finalObject).toEqual(JSON.parse(JSON.stringify(response)));
  });

  it('offers no annotator before anything was retrieved', () => {
    expect(new FileSearchTool(fakeStores({}).stores).textAnnotator(new Map())).toBeUndefined();
  });
});

describe('file_search: request checks', () => {
  const tool = new FileSearchTool(fakeStores(STORES).stores);
  const errorOf = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err as InvalidRequestError;
    }
    throw new Error('expected an error');
  };

  it.each([
    [{ type: 'file_search' }, 'tools[0].vector_store_ids'],
    [{ type: 'file_search', vector_store_ids: [] }, 'tools[0].vector_store_ids'],
    [{ type: 'file_search', vector_store_ids: ['vs_a'], max_num_results: 51 }, 'tools[0].max_num_results'],
    [{ type: 'file_search', vector_store_ids: ['vs_a'], max_num_results: 0 }, 'tools[0].max_num_results'],
    [{ type: 'file_search', vector_store_ids: ['vs_a'], ranking_options: { ranker: 'magic' } }, 'tools[0].ranking_options.ranker'],
    [{ type: 'file_search', vector_store_ids: ['vs_a'], vector_store: 'x' }, 'tools[0].vector_store'],
  ])('%j is a 400 naming %s', (entry, param) => {
    const err = errorOf(() => planTools({ tools: [entry] as never }, new ToolRegistry([tool])));
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
  });

  it('refuses an unknown (or foreign) vector store with a 404 naming the tool', async () => {
    const err = await tool.check({ type: 'file_search', vector_store_ids: ['vs_a', 'vs_other_project'] }, 'tools[1]', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, param: 'tools[1].vector_store_ids' });
    expect((err as Error).message).toContain('vs_other_project');
    await expect(tool.check({ type: 'file_search', vector_store_ids: ['vs_a', 'vs_b'] }, 'tools[0]', {})).resolves.toBeUndefined();
  });

  it('forces the search with tool_choice file_search or required', () => {
    const registry = new ToolRegistry([tool]);
    expect(planTools({ tools: [tool1()] as never, tool_choice: { type: 'file_search' } }, registry).toolChoice).toEqual({ type: 'function', function: { name: 'file_search' } });
    expect(planTools({ tools: [tool1()] as never, tool_choice: 'required' }, registry).toolChoice).toBe('required');
  });
});

describe('file_search: forced', () => {
  it('forces the first turn only: the turn reading the results may answer', async () => {
    const { stores } = fakeStores(STORES);
    const { bodies, response } = await run(plan({ tools: [tool1()], tool_choice: { type: 'file_search' } }, new FileSearchTool(stores)), [searchCall({ queries: ['w'] }), textChunks(['ok'])]);
    expect(bodies[0]!.tool_choice).toEqual({ type: 'function', function: { name: 'file_search' } });
    expect(bodies[1]!.tool_choice).toBe('auto');
    expect(response.status).toBe('completed');
  });
});

describe('file_search: replay on later turns', () => {
  it('replays a stored call and its results (without markers) to the model', () => {
    const registry = new ToolRegistry([new FileSearchTool(fakeStores({}).stores)]);
    const item = { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['warranty'], results: [{ file_id: 'file-a', filename: 'a.txt', score: 1, text: 'Three years.', attributes: null }] };
    const msgs = itemsToChatMessages(null, [item as ResponseItem], registry.itemMappers());
    expect(msgs).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'fs_1', type: 'function', function: { name: 'file_search', arguments: '{"queries":["warranty"]}' } }] },
      { role: 'tool', tool_call_id: 'fs_1', content: '[a.txt]\nThree years.' },
    ]);
    const bare = itemsToChatMessages(null, [{ ...item, results: null } as ResponseItem], registry.itemMappers());
    expect(bare[1]!.content).toBe('The results of this search were not kept.');
  });
});
