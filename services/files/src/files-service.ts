import { defineFileEventTopics, migrate, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { systemClock, type Clock } from './clock.js';
import { ExpirySweeper } from './expiry-sweeper.js';
import { FileManager } from './file-manager.js';
import { FILE_MIGRATIONS } from './file-migrations.js';
import { fileRoutes } from './file-routes.js';
import { FileStore } from './file-store.js';
import { UploadManager } from './upload-manager.js';
import { uploadRoutes } from './upload-routes.js';
import { UploadStore } from './upload-store.js';

export interface FilesServiceOptions {
  /** The clock expiry is judged by (tests move it). */
  clock?: Clock;
  /** How often expired files and uploads are swept; FILES_SWEEP_INTERVAL_MS, default a minute; 0 = never (tests sweep themselves). */
  sweepIntervalMs?: number;
}

/** The files service: the Files and Uploads APIs, bytes in `platform.objects`, metadata in the platform database. */
export async function createFilesService(platform: Platform, options: FilesServiceOptions = {}): Promise<ServiceInstance & { sweeper: ExpirySweeper }> {
  await migrate(platform.database, 'files', FILE_MIGRATIONS);
  await platform.objects.ensureReady();
  defineFileEventTopics(platform.queue);
  const clock = options.clock ?? systemClock;
  const logger = platform.logger;
  const files = new FileStore(platform.database);
  const uploads = new UploadStore(platform.database);
  const fileManager = new FileManager({ store: files, objects: platform.objects, queue: platform.queue, clock, maxFileBytes: platform.config.filesMaxBytes, logger });
  const uploadManager = new UploadManager({ store: uploads, objects: platform.objects, clock, logger });
  const sweeper = new ExpirySweeper({ files, fileManager, uploads, uploadManager, clock, logger });
  const intervalMs = options.sweepIntervalMs ?? Number(process.env.FILES_SWEEP_INTERVAL_MS || 60_000);
  const descriptors = [...fileRoutes(fileManager, clock, platform.config.filesMaxBytes), ...uploadRoutes(uploadManager, clock)];
  return {
    name: 'files',
    routes: routerFor(descriptors, platform.config),
    descriptors,
    sweeper,
    async start() {
      if (intervalMs > 0) sweeper.start(intervalMs);
    },
    async close() {
      await sweeper.stop();
    },
  };
}
