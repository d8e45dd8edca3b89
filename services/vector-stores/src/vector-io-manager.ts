import { InvalidRequestError, projectOf, type InferenceClient, type RequestContext } from '@rgw/shared';
import type { Attributes, ChunkRecord, VectorIndex } from './index/vector-index.js';
import { embedTexts } from './query-embedder.js';
import type { InsertChunksBody, QueryChunksBody } from './vector-io-schema.js';
import type { VectorStoreManager } from './vector-store-manager.js';
import type { VectorStoreStore } from './vector-store-store.js';

/** Chunks inserted through vector-io belong to this pseudo-file unless they name a document. */
const LOOSE_DOCUMENT = 'vector-io';
const ID_MARK = ':io:';

/**
 * Llama Stack's chunk-level API, for callers who chunk (and maybe embed) themselves: insert chunks
 * into a store's index (embedded with the store's model unless they carry embeddings), query them.
 */
export class VectorIoManager {
  constructor(
    private readonly deps: { manager: VectorStoreManager; stores: VectorStoreStore; index: VectorIndex; inference: Pick<InferenceClient, 'embeddings'> },
  ) {}

  async insert(ctx: RequestContext, body: InsertChunksBody): Promise<void> {
    const store = await this.deps.manager.usableStore(ctx, body.vector_store_id);
    const texts = body.chunks.map((c, i) => contentText(c.content, `chunks[${i}].content`));
    const vectors: (number[] | undefined)[] = body.chunks.map((c) => c.embedding ?? undefined);
    const missing = vectors.flatMap((v, i) => (v ? [] : [i]));
    if (missing.length && store.embedding_model) {
      const embedded = await embedTexts(this.deps.inference, store.embedding_model, missing.map((i) => texts[i]!));
      missing.forEach((i, k) => (vectors[i] = embedded[k]));
    }
    let dimension = store.embedding_dimension;
    for (const [i, v] of vectors.entries()) {
      if (!v) continue;
      if (dimension === null) dimension = v.length;
      if (v.length !== dimension) {
        throw new InvalidRequestError(`chunks[${i}].embedding has ${v.length} dimensions; vector store '${store.id}' holds ${dimension}.`, `chunks[${i}].embedding`, 'invalid_value');
      }
    }
    if (dimension !== null && store.embedding_dimension === null) await this.deps.stores.recordDimension(store.id, dimension);
    const records: ChunkRecord[] = body.chunks.map((c, i) => {
      const document = c.chunk_metadata?.document_id ?? stringOf(c.metadata?.document_id) ?? LOOSE_DOCUMENT;
      return {
        id: `${store.id}${ID_MARK}${c.chunk_id}`,
        projectId: projectOf(ctx),
        vectorStoreId: store.id,
        fileId: document,
        filename: c.chunk_metadata?.source ?? stringOf(c.metadata?.source) ?? document,
        chunkIndex: i,
        text: texts[i]!,
        tokens: Math.ceil(texts[i]!.length / 4),
        embedding: vectors[i] ? Float32Array.from(vectors[i]!) : undefined,
        attributes: scalarAttributes(c.metadata ?? {}),
      };
    });
    await this.deps.index.upsert(records);
  }

  async query(ctx: RequestContext, body: QueryChunksBody) {
    const store = await this.deps.manager.usableStore(ctx, body.vector_store_id);
    const params = body.params ?? {};
    const mode = params.mode ?? 'vector';
    const queryText = contentText(body.query, 'query');
    let queryVector: Float32Array | undefined;
    if (mode !== 'keyword') {
      if (!store.embedding_model) {
        throw new InvalidRequestError("Vector and hybrid queries need an embedding model: this vector store has none (set EMBEDDING_MODEL, or 'embedding_model' at create); use params.mode 'keyword'.", 'params.mode', 'embedding_model_not_configured');
      }
      queryVector = Float32Array.from((await embedTexts(this.deps.inference, store.embedding_model, [queryText]))[0]!);
    }
    const hits = await this.deps.index.search({
      projectId: projectOf(ctx),
      vectorStoreIds: [store.id],
      mode,
      queryText,
      queryVector,
      filter: params.filters,
      topK: params.max_chunks ?? 10,
      scoreThreshold: params.score_threshold,
    });
    return {
      chunks: hits.map((h) => {
        const chunkId = h.chunkId.startsWith(store.id + ID_MARK) ? h.chunkId.slice(store.id.length + ID_MARK.length) : h.chunkId;
        return {
          chunk_id: chunkId,
          content: h.text,
          metadata: h.attributes,
          chunk_metadata: { chunk_id: chunkId, document_id: h.fileId, source: h.filename },
          // Stored vectors are not read back: the index answers text and scores.
          embedding: [] as number[],
          embedding_model: store.embedding_model ?? '',
          embedding_dimension: store.embedding_dimension ?? 0,
        };
      }),
      scores: hits.map((h) => h.score),
    };
  }
}

function contentText(content: InsertChunksBody['chunks'][number]['content'], param: string): string {
  const items = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [content];
  const parts: string[] = [];
  for (const item of items) {
    if (!('text' in item) || typeof item.text !== 'string') throw new InvalidRequestError(`Only text content is supported in '${param}'.`, param, 'unsupported_content');
    parts.push(item.text);
  }
  const text = parts.join('\n');
  if (!text.trim()) throw new InvalidRequestError(`'${param}' has no text.`, param, 'invalid_value');
  return text;
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v.slice(0, 512) : undefined;
}

/** Metadata values a filter can use (strings, numbers, booleans), as attributes; the rest is dropped. */
function scalarAttributes(metadata: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v === 'string') out[k] = v.slice(0, 512);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}
