import OpenAI from 'openai';
import { inject } from 'vitest';
import { MockControl } from './mock-model-server.js';
import type { PlatformInfo } from './platform-harness.js';

/** Every platform the global setup started (embedded, and distributed where it can run). */
export const platforms: PlatformInfo[] = inject('platforms');
export const mock = new MockControl(inject('mockOrigin'));

/** The official SDK, as our users configure it; no retries, so error tests see the first answer. */
export function openai(p: PlatformInfo, opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ baseURL: p.baseURL, apiKey: 'test-key', maxRetries: 0, ...opts });
}
