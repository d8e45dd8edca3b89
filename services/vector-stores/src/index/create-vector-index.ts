import { join } from 'node:path';
import type { Config } from '@rgw/shared';
import { EmbeddedVectorIndex } from './embedded-index.js';
import type { VectorIndex } from './vector-index.js';

/** The file of the embedded index under DATA_DIR, shared by the API and worker processes of a host. */
export const EMBEDDED_INDEX_FILE = 'vector-index.sqlite';

/**
 * The chunk index a deployment uses: Qdrant when QDRANT_URL is set, else the embedded index in
 * DATA_DIR (single host: every process of the host opens the same file).
 */
export async function createVectorIndex(config: Pick<Config, 'dataDir' | 'qdrantUrl' | 'qdrantApiKey'>, opts: { qdrantPrefix?: string } = {}): Promise<VectorIndex> {
  if (config.qdrantUrl) {
    // The Qdrant client (and undici under it, about a megabyte of code) loads only where QDRANT_URL is set.
    const { QdrantVectorIndex } = await import('./qdrant-index.js');
    return new QdrantVectorIndex({ url: config.qdrantUrl, apiKey: config.qdrantApiKey, prefix: opts.qdrantPrefix });
  }
  return new EmbeddedVectorIndex(join(config.dataDir, EMBEDDED_INDEX_FILE));
}
