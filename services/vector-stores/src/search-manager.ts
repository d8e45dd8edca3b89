import { InvalidRequestError, nowSeconds, projectOf, type InferenceClient, type RequestContext } from '@rgw/shared';
import type { SearchHit, SearchMode, VectorIndex } from './index/vector-index.js';
import { embedTexts } from './query-embedder.js';
import type { SearchBody } from './vector-store-schema.js';
import type { VectorStoreStore } from './vector-store-store.js';
import type { VectorStoreManager } from './vector-store-manager.js';

export interface SearchResultItem {
  file_id: string;
  filename: string;
  score: number;
  attributes: Record<string, string | number | boolean>;
  content: { type: 'text'; text: string }[];
}

/**
 * Search over one store: each query embedded with the store's model (vector, hybrid) and searched
 * in the index, the hits of all queries merged by chunk (best score), cut to `max_num_results`
 * chunks, then grouped by file (best file first, its chunks best first).
 */
export class SearchManager {
  constructor(
    private readonly deps: {
      manager: VectorStoreManager;
      stores: VectorStoreStore;
      index: VectorIndex;
      inference: Pick<InferenceClient, 'embeddings'>;
      now?: () => number;
    },
  ) {}

  async search(ctx: RequestContext, storeId: string, body: SearchBody) {
    const store = await this.deps.manager.usableStore(ctx, storeId);
    const mode: SearchMode = body.search_mode ?? 'vector';
    const queries = typeof body.query === 'string' ? [body.query] : body.query;
    const vectors = mode === 'keyword' ? [] : await this.embedQueries(store.embedding_model, queries);
    const best = new Map<string, SearchHit>();
    for (const [i, queryText] of queries.entries()) {
      const hits = await this.deps.index.search({
        projectId: projectOf(ctx),
        vectorStoreIds: [storeId],
        mode,
        queryText,
        queryVector: vectors[i],
        filter: body.filters ?? undefined,
        topK: body.max_num_results,
        scoreThreshold: body.ranking_options?.score_threshold,
      });
      for (const hit of hits) {
        const seen = best.get(hit.chunkId);
        if (!seen || seen.score < hit.score) best.set(hit.chunkId, hit);
      }
    }
    await this.deps.stores.update(projectOf(ctx), storeId, { last_active_at: (this.deps.now ?? nowSeconds)() });
    const top = [...best.values()].sort((a, b) => b.score - a.score).slice(0, body.max_num_results);
    return {
      object: 'vector_store.search_results.page' as const,
      // No query rewriting here: `rewrite_query` is accepted and the queries are searched as given.
      search_query: queries,
      data: groupByFile(top),
      has_more: false,
      next_page: null,
    };
  }

  private async embedQueries(model: string | null, queries: string[]): Promise<Float32Array[]> {
    if (!model) {
      throw new InvalidRequestError(
        "Vector and hybrid search need an embedding model: this vector store has none (set EMBEDDING_MODEL on the platform, or give 'embedding_model' when creating the store). Keyword search works without one: search_mode 'keyword'.",
        'search_mode',
        'embedding_model_not_configured',
      );
    }
    const vectors = await embedTexts(this.deps.inference, model, queries);
    return vectors.map((v) => Float32Array.from(v));
  }
}

export function groupByFile(hits: SearchHit[]): SearchResultItem[] {
  const byFile = new Map<string, SearchResultItem>();
  for (const hit of hits) {
    const key = `${hit.vectorStoreId}\u0000${hit.fileId}`;
    let item = byFile.get(key);
    if (!item) {
      item = { file_id: hit.fileId, filename: hit.filename, score: clamp(hit.score), attributes: hit.attributes, content: [] };
      byFile.set(key, item);
    }
    item.content.push({ type: 'text', text: hit.text });
  }
  return [...byFile.values()];
}

function clamp(score: number): number {
  return Math.min(1, Math.max(0, score));
}
