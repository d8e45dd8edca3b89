import { runService } from '@rgw/shared';
import { createPromptsService } from './prompts-service.js';

await runService('prompts', createPromptsService);
