import { idSegment } from '../http/safe-id.js';
import type { AttributeFilter } from '../wire/attribute-filter.js';
import { gatewayRequest, type ClientCallOptions, type ClientTransport } from './gateway-request.js';

/** A vector store as GET /v1/vector_stores/{id} returns it (only what callers read; the rest passes through). */
export interface VectorStoreObject {
  id: string;
  object: 'vector_store';
  name?: string | null;
  status?: string;
  [key: string]: unknown;
}

/** Spec: VectorStoreSearchRequest. */
export interface VectorStoreSearchRequest {
  query: string | string[];
  max_num_results?: number;
  filters?: AttributeFilter;
  ranking_options?: { ranker?: string; score_threshold?: number };
  rewrite_query?: boolean;
}

/** Spec: VectorStoreSearchResultItem. */
export interface VectorStoreSearchResult {
  file_id: string;
  filename: string;
  score: number;
  attributes: Record<string, string | number | boolean> | null;
  content: { type: 'text'; text: string }[];
}

/** Spec: VectorStoreSearchResultsPage. */
export interface VectorStoreSearchPage {
  object: 'vector_store.search_results.page';
  search_query: string[];
  data: VectorStoreSearchResult[];
  has_more: boolean;
  next_page: string | null;
}

/**
 * The Vector Stores API as other services use it: over public HTTP through the gateway, signed
 * with the caller's principal, so a store of another project is a 404 as for any client.
 */
export class VectorStoresClient {
  constructor(private readonly transport: ClientTransport) {}

  /** The store, or a 404 ApiError when the caller's project has none by that id. */
  async retrieve(id: string, opts: ClientCallOptions = {}): Promise<VectorStoreObject> {
    return gatewayRequest(this.transport, { ...opts, service: 'vector-stores', method: 'GET', path: `/v1/vector_stores/${idSegment(id, 'vector_store_id')}` });
  }

  async search(id: string, body: VectorStoreSearchRequest, opts: ClientCallOptions = {}): Promise<VectorStoreSearchPage> {
    const page = await gatewayRequest<VectorStoreSearchPage>(this.transport, {
      ...opts,
      service: 'vector-stores',
      method: 'POST',
      path: `/v1/vector_stores/${idSegment(id, 'vector_store_id')}/search`,
      body,
    });
    // Tolerant of a reply missing fields we do not need; `data` is what the caller reads.
    return { ...page, data: Array.isArray(page?.data) ? page.data : [] };
  }
}
