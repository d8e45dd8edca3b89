import { runService } from '@rgw/shared';
import { createIngestWorker } from './ingest-worker.js';

await runService('ingest-worker', createIngestWorker);
