export { createPromptsService } from './prompts-service.js';
export { promptRouteDocs } from './prompt-routes.js';
