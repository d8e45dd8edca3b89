export { createPromptsService } from './prompts-service.js';
