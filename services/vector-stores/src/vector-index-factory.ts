import type { Platform } from '@rgw/shared';
import { mkdirSync } from 'node:fs';
import { createVectorIndex } from './index/create-vector-index.js';
import type { VectorIndex } from './index/vector-index.js';

const shared = new WeakMap<Platform, { index: Promise<VectorIndex>; users: number }>();

/**
 * The index this process's vector-stores API and ingest worker share: Qdrant when QDRANT_URL is set,
 * else the embedded index at `<DATA_DIR>/vector-index.sqlite` (processes on one host share that file).
 * One instance per platform, so the in-process worker of the embedded mode writes where the API reads.
 */
function openVectorIndex(platform: Platform): Promise<VectorIndex> {
  if (!platform.config.qdrantUrl) mkdirSync(platform.config.dataDir, { recursive: true });
  return createVectorIndex(platform.config, { qdrantPrefix: platform.config.keyPrefix });
}

/** The shared index of this platform, opened on first use; `release` closes it when its last user leaves. */
export async function acquireVectorIndex(platform: Platform): Promise<{ index: VectorIndex; release(): Promise<void> }> {
  let entry = shared.get(platform);
  if (!entry) {
    entry = { index: openVectorIndex(platform).then(async (index) => {
        await index.ensureReady();
        return index;
      }), users: 0 };
    shared.set(platform, entry);
  }
  entry.users++;
  const index = await entry.index;
  let released = false;
  return {
    index,
    async release() {
      if (released) return;
      released = true;
      if (--entry!.users === 0) {
        shared.delete(platform);
        await index.close();
      }
    },
  };
}
