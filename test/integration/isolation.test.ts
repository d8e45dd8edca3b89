import LlamaStackClient from 'llama-stack-client';
import { describe } from 'vitest';
import { openai, platforms } from '../support/context.js';
import { isolationCases } from '../support/isolation-suite.js';

// Per-project isolation through the public API, in every mode: the shared platforms run with
// API_KEYS=test-key,test-key-b, two keys of two projects (A: test-key, B: test-key-b).
const KEY_A = 'test-key';
const KEY_B = 'test-key-b';

/** Whether the platform checks API keys at all: with auth off, an unknown key is answered 200. */
async function authIsOff(baseURL: string): Promise<boolean> {
  const res = await fetch(`${baseURL}/models`, { headers: { authorization: 'Bearer test-key-invalid' } });
  await res.body?.cancel();
  return res.ok;
}

const off = new Map<string, boolean>();
for (const p of platforms) off.set(p.mode, await authIsOff(p.baseURL));
for (const [mode, isOff] of off) {
  if (isOff) {
    console.warn(
      `\n!!! isolation.test.ts SKIPPED (${mode}): the platform answers an unknown API key ('test-key-invalid') with 200, so API keys are off` +
        ` and every caller is the same project. It needs the shared platforms started with API_KEYS=${KEY_A},${KEY_B}.\n`,
    );
  }
}

describe.each(platforms)('isolation between projects ($mode)', (p) => {
  describe.skipIf(off.get(p.mode))('two keys, two projects', () => {
    isolationCases(() => ({
      a: openai(p, { apiKey: KEY_A }),
      b: openai(p, { apiKey: KEY_B }),
      llamaA: new LlamaStackClient({ baseURL: p.origin, apiKey: KEY_A, maxRetries: 0 }),
      llamaB: new LlamaStackClient({ baseURL: p.origin, apiKey: KEY_B, maxRetries: 0 }),
    }));
  });
});
