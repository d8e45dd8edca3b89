import type { AttributeFilter } from '@rgw/shared';

/** Attribute values OpenAI allows on a vector store file (≤ 16 keys; strings ≤ 512 characters). */
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** One chunk of one file in one vector store, as the ingest worker writes it. */
export interface ChunkRecord {
  /** Deterministic (derived from store, file and chunk index): writing a chunk twice replaces it. */
  id: string;
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  /** 0-based position of the chunk in its file. */
  chunkIndex: number;
  text: string;
  tokens: number;
  /** Absent when the store has no embedding model (keyword search only). */
  embedding?: Float32Array;
  attributes: Attributes;
}

export type SearchMode = 'vector' | 'keyword' | 'hybrid';

export interface SearchRequest {
  projectId: string;
  /** Chunks of these stores only (file_search may search several at once). */
  vectorStoreIds: string[];
  mode: SearchMode;
  /** The text of the query (keyword and hybrid modes; several queries are searched by the caller one by one). */
  queryText: string;
  /** The embedded query (vector and hybrid modes), of the stores' dimension. */
  queryVector?: Float32Array;
  filter?: AttributeFilter;
  /** Best `topK` chunks that pass the filter: a filter never cuts the result short when matches exist. */
  topK: number;
  /** Drop hits scoring below this (scores are 0..1). */
  scoreThreshold?: number;
}

export interface SearchHit {
  chunkId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  chunkIndex: number;
  text: string;
  /** 0..1, higher is better (cosine mapped to 0..1 for vectors, normalised BM25 for keywords, fused for hybrid). */
  score: number;
  attributes: Attributes;
}

/**
 * The chunk index behind vector stores: embedded (SQLite FTS5 + an in-memory ANN graph rebuilt
 * from stored vectors; several processes on one host may share its file) or Qdrant (distributed).
 * All writes are idempotent, so a retried ingest job never duplicates a chunk.
 */
export interface VectorIndex {
  readonly kind: 'embedded' | 'qdrant';
  /** Opens or creates what it needs (tables, collections); idempotent. */
  ensureReady(): Promise<void>;
  ping(): Promise<void>;
  /** Inserts or replaces chunks by id; durable (searchable) once resolved. */
  upsert(chunks: ChunkRecord[]): Promise<void>;
  /** Removes every chunk of a file from a store; searches started after this resolves never see them. */
  deleteFile(vectorStoreId: string, fileId: string): Promise<void>;
  /** Removes every chunk of a store. */
  deleteStore(vectorStoreId: string): Promise<void>;
  /** Replaces the attributes of every chunk of a file (no re-embedding); filters see them at once. */
  setFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes): Promise<void>;
  /** A file's chunks in order (the content endpoint), paged by chunk index. */
  fileChunks(vectorStoreId: string, fileId: string, opts: { afterIndex?: number; limit: number }): Promise<{ chunks: { chunkIndex: number; text: string }[]; hasMore: boolean }>;
  /** Number of chunks and their total bytes of text per file (usage_bytes). */
  fileUsage(vectorStoreId: string, fileId: string): Promise<{ chunks: number; bytes: number }>;
  search(request: SearchRequest): Promise<SearchHit[]>;
  close(): Promise<void>;
}
