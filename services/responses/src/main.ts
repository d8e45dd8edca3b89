import { runService } from '@rgw/shared';
import { createResponsesService } from './responses-service.js';

await runService('responses', createResponsesService);
