import type { Metadata } from '@rgw/shared';
import type { BatchRecord, FileRecord } from './vector-store-file-store.js';
import type { FileCounts, StoreRecord, StoreTotals } from './vector-store-store.js';

const DAY = 86_400;

/** VectorStoreObject, plus Llama Stack's `description`, `embedding_model` and `embedding_dimension`. */
export interface VectorStoreObject {
  id: string;
  object: 'vector_store';
  created_at: number;
  name: string;
  description: string | null;
  usage_bytes: number;
  file_counts: FileCounts;
  status: 'expired' | 'in_progress' | 'completed';
  expires_after: { anchor: 'last_active_at'; days: number } | null;
  expires_at: number | null;
  last_active_at: number;
  metadata: Metadata;
  embedding_model: string | null;
  embedding_dimension: number | null;
}

export function expiresAt(store: StoreRecord): number | null {
  return store.expires_after_days === null ? null : store.last_active_at + store.expires_after_days * DAY;
}

export function isExpired(store: StoreRecord, now: number): boolean {
  const at = expiresAt(store);
  return at !== null && at <= now;
}

export function toStoreObject(store: StoreRecord, totals: StoreTotals, now: number): VectorStoreObject {
  return {
    id: store.id,
    object: 'vector_store',
    created_at: store.created_at,
    name: store.name,
    description: store.description,
    usage_bytes: totals.usage_bytes,
    file_counts: totals.counts,
    status: isExpired(store, now) ? 'expired' : totals.counts.in_progress > 0 ? 'in_progress' : 'completed',
    expires_after: store.expires_after_days === null ? null : { anchor: 'last_active_at', days: store.expires_after_days },
    expires_at: expiresAt(store),
    last_active_at: store.last_active_at,
    metadata: store.metadata,
    embedding_model: store.embedding_model,
    embedding_dimension: store.embedding_dimension,
  };
}

export function toFileObject(file: FileRecord) {
  return {
    id: file.file_id,
    object: 'vector_store.file' as const,
    usage_bytes: file.usage_bytes,
    created_at: file.created_at,
    vector_store_id: file.vector_store_id,
    status: file.status,
    last_error: file.last_error,
    chunking_strategy: file.chunking_strategy,
    attributes: file.attributes,
  };
}

export function toBatchObject(batch: BatchRecord, totals: StoreTotals) {
  const counts = totals.counts;
  return {
    id: batch.id,
    object: 'vector_store.files_batch' as const,
    created_at: batch.created_at,
    vector_store_id: batch.vector_store_id,
    status: batch.cancelled && counts.cancelled > 0 ? ('cancelled' as const) : counts.in_progress > 0 ? ('in_progress' as const) : ('completed' as const),
    file_counts: counts,
  };
}
