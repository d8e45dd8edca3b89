import { ApiError, NotFoundError, newId, validate, type ClientCallOptions, type Principal, type VectorStoreSearchRequest, type VectorStoreSearchResult } from '@rgw/shared';
import type { ChatMessage } from '../../chat/items-to-chat.js';
import type { ResponseItem, UnsequencedEvent } from '../../wire/response-types.js';
import type { OfferedFunction, ServerTool, TextAnnotator, ToolCallContext } from '../tool-registry.js';
import { CitationSources, CitationTransformer } from './citations.js';
import { fileSearchArgsSchema, fileSearchToolSchema, type FileSearchToolParam } from './file-search-schema.js';

/** What the tool needs of the Vector Stores API (shared/src/clients/vector-stores-client.ts, or a fake). */
export interface VectorStoreSearcher {
  retrieve(id: string, opts?: ClientCallOptions): Promise<unknown>;
  search(id: string, body: VectorStoreSearchRequest, opts?: ClientCallOptions): Promise<{ data: VectorStoreSearchResult[] }>;
}

/** One merged result, as `file_search_call.results` shows it. */
export interface FileSearchResult {
  file_id: string;
  filename: string;
  score: number;
  text: string;
  attributes: Record<string, string | number | boolean> | null;
}

export const FILE_SEARCH_FUNCTION = 'file_search';
const DEFAULT_MAX_RESULTS = 10;
const SOURCES_KEY = 'file_search.sources';

export interface FileSearchOptions {
  /** Consecutive words of overlap that cite an unmarked passage (citations.ts). */
  minOverlapWords?: number;
}

/**
 * The `file_search` server tool: the model is offered a `file_search(queries)` function; each call
 * searches every vector store of the tool entry through the Vector Stores API, merges the results
 * by score and hands the chunks back labelled with citation markers, which the response's text
 * annotator turns into `file_citation` annotations.
 */
export class FileSearchTool implements ServerTool {
  readonly type = 'file_search';

  constructor(
    private readonly stores: VectorStoreSearcher,
    private readonly opts: FileSearchOptions = {},
  ) {}

  validate(entry: Record<string, unknown>, param: string): void {
    validate(fileSearchToolSchema, entry, param);
  }

  /** Every listed store must exist for the caller: otherwise a 404 naming the tool's vector_store_ids. */
  async check(entry: Record<string, unknown>, param: string, caller: { requestId?: string; principal?: Principal }): Promise<void> {
    const tool = entry as FileSearchToolParam;
    await Promise.all(
      tool.vector_store_ids.map(async (id) => {
        try {
          await this.stores.retrieve(id, caller);
        } catch (err) {
          if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
            throw new NotFoundError(`Vector store with id '${id}' not found.`, `${param}.vector_store_ids`, 'vector_store_not_found');
          }
          throw err;
        }
      }),
    );
  }

  offer(): OfferedFunction {
    return {
      name: FILE_SEARCH_FUNCTION,
      description:
        "Search the user's uploaded files for passages relevant to the question. Give one or more search queries. " +
        'Each result is labelled with a marker like 【0:1†file.txt】; when you use a result, copy its marker right after the sentence it supports.',
      parameters: {
        type: 'object',
        properties: { queries: { type: 'array', items: { type: 'string' }, description: 'Search queries, each a short phrase or question.' } },
        required: ['queries'],
      },
    };
  }

  async *execute(ctx: ToolCallContext): AsyncGenerator<UnsequencedEvent, { content: string }> {
    const tool = ctx.entry as FileSearchToolParam;
    const queries = parseQueries(ctx.arguments);
    const item = { id: newId('fileSearchCall'), type: 'file_search_call', status: 'in_progress', queries, results: null } as ResponseItem & { results: FileSearchResult[] | null };
    const { index, event } = ctx.output.addItem(item);
    yield event;
    const base = { output_index: index, item_id: item.id };
    yield { type: 'response.file_search_call.in_progress', ...base };
    item.status = 'searching';
    yield { type: 'response.file_search_call.searching', ...base };

    if (queries.length === 0) {
      yield ctx.output.doneItem(index, 'failed');
      return { content: 'The file search failed: give at least one query in "queries".' };
    }
    let results: FileSearchResult[];
    try {
      results = await this.searchAll(tool, queries, ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.warn({ err: (err as Error).message, item: item.id }, 'file_search failed');
      yield ctx.output.doneItem(index, 'failed');
      return { content: `The file search failed (${(err as Error).message}). No results are available; answer without them and say so if it matters.` };
    }

    if (ctx.include.includes('file_search_call.results')) item.results = results;
    yield { type: 'response.file_search_call.completed', ...base };
    yield ctx.output.doneItem(index, 'completed');
    return { content: this.toolContent(queries, results, ctx.state) };
  }

  itemTypes = { file_search_call: replayItem };

  textAnnotator(state: Map<string, unknown>): TextAnnotator | undefined {
    const sources = state.get(SOURCES_KEY) as CitationSources | undefined;
    if (!sources || sources.size === 0) return undefined;
    const t = new CitationTransformer(sources, { minOverlapWords: this.opts.minOverlapWords });
    return { push: (d) => t.push(d), end: () => t.end() };
  }

  /** Searches every store with all queries at once, then merges: best score first, duplicates once. */
  private async searchAll(tool: FileSearchToolParam, queries: string[], ctx: ToolCallContext): Promise<FileSearchResult[]> {
    const max = tool.max_num_results ?? DEFAULT_MAX_RESULTS;
    const body: VectorStoreSearchRequest = { query: queries.length === 1 ? queries[0]! : queries, max_num_results: max };
    if (tool.filters) body.filters = tool.filters;
    if (tool.ranking_options) {
      const { ranker, score_threshold } = tool.ranking_options;
      body.ranking_options = { ...(ranker ? { ranker } : {}), ...(score_threshold !== undefined ? { score_threshold } : {}) };
    }
    const call = { requestId: ctx.requestId, principal: ctx.principal, signal: ctx.signal };
    const pages = await Promise.all(tool.vector_store_ids.map((id) => this.stores.search(id, body, call)));
    const seen = new Set<string>();
    const merged: FileSearchResult[] = [];
    for (const r of pages.flatMap((p) => p.data)) {
      const text = (r.content ?? []).map((c) => c.text).join('\n');
      const key = `${r.file_id}\u0000${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push({ file_id: r.file_id, filename: r.filename, score: r.score, text, attributes: r.attributes ?? null });
    }
    return merged.sort((a, b) => b.score - a.score).slice(0, max);
  }

  /** The chunks as the model reads them, each after its marker (registered so it can be cited). */
  private toolContent(queries: string[], results: FileSearchResult[], state: Map<string, unknown>): string {
    if (results.length === 0) return `No results were found in the files for: ${queries.join('; ')}.`;
    let sources = state.get(SOURCES_KEY) as CitationSources | undefined;
    if (!sources) state.set(SOURCES_KEY, (sources = new CitationSources()));
    const call = sources.nextCall();
    const blocks = results.map((r, n) => `${sources.register(call, n, { file_id: r.file_id, filename: r.filename, text: r.text })}\n${r.text}`);
    return [`File search results for: ${queries.join('; ')}`, 'Cite a result by writing its marker (e.g. 【0:0†name】) right after the sentence that uses it.', ...blocks].join('\n\n');
  }
}

function parseQueries(args: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(args || '{}');
  } catch {
    return [];
  }
  const parsed = fileSearchArgsSchema.safeParse(raw);
  return parsed.success ? parsed.data.queries.filter((q) => q.trim()) : [];
}

/**
 * An earlier file_search_call, replayed to the model as the call and its results (without markers:
 * marker numbers belong to the response that made them). Without stored results (the request did
 * not include `file_search_call.results`) the model sees which queries were searched.
 */
function replayItem(item: ResponseItem): ChatMessage[] {
  const queries = Array.isArray(item.queries) ? (item.queries as string[]) : [];
  const results = Array.isArray(item.results) ? (item.results as Partial<FileSearchResult>[]) : null;
  const content =
    item.status === 'failed'
      ? 'The file search failed.'
      : results === null
        ? 'The results of this search were not kept.'
        : results.length === 0
          ? 'No results were found.'
          : results.map((r) => `[${r.filename ?? r.file_id}]\n${r.text ?? ''}`).join('\n\n');
  return [
    { role: 'assistant', content: null, tool_calls: [{ id: item.id, type: 'function', function: { name: FILE_SEARCH_FUNCTION, arguments: JSON.stringify({ queries }) } }] },
    { role: 'tool', tool_call_id: item.id, content },
  ];
}
