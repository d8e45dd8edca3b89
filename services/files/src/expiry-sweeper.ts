import type { Logger } from '@rgw/shared';
import { nowSecondsOf, type Clock } from './clock.js';
import type { FileManager } from './file-manager.js';
import type { FileStore } from './file-store.js';
import type { UploadManager } from './upload-manager.js';
import type { UploadStore } from './upload-store.js';

/** An upload (file row 'uploading', or an upload 'completing') this old was cut off by a crash. */
export const STALE_SECONDS = 24 * 3600;
const BATCH = 100;

export interface SweeperOptions {
  files: FileStore;
  fileManager: FileManager;
  uploads: UploadStore;
  uploadManager: UploadManager;
  clock: Clock;
  logger: Logger;
}

/**
 * Deletes what has expired: files past `expires_at` (bytes, row, `file.deleted`), pending uploads past
 * theirs (the store's multipart upload and its parts), and leftovers of uploads a crash cut off.
 * Several processes may sweep at once: every step is idempotent.
 */
export class ExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly o: SweeperOptions) {}

  /** One pass at the clock's now; resolves with what it removed. */
  async sweep(): Promise<{ files: number; uploads: number }> {
    const now = nowSecondsOf(this.o.clock);
    let files = 0;
    let uploads = 0;
    for (;;) {
      const batch = await this.o.files.sweepable(now, now - STALE_SECONDS, BATCH);
      for (const record of batch) {
        await this.o.fileManager.remove(record);
        files++;
      }
      if (batch.length < BATCH) break;
    }
    for (;;) {
      const batch = await this.o.uploads.sweepable(now, now - STALE_SECONDS, BATCH);
      for (const upload of batch) {
        await this.o.uploadManager.remove(upload);
        uploads++;
      }
      if (batch.length < BATCH) break;
    }
    return { files, uploads };
  }

  start(intervalMs: number): void {
    const tick = () => {
      this.running = this.sweep().then(
        (n) => (n.files || n.uploads) && this.o.logger.info(n, 'expired files and uploads removed'),
        (err) => this.o.logger.warn({ err: (err as Error).message }, 'expiry sweep failed; retried at the next interval'),
      );
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
