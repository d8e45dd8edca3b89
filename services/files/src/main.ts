import { runService } from '@rgw/shared';
import { createFilesService } from './files-service.js';

await runService('files', createFilesService);
