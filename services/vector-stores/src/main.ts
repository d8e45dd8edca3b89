import { runService } from '@rgw/shared';
import { createVectorStoresService } from './vector-stores-service.js';

await runService('vector-stores', createVectorStoresService);
