import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import LlamaStackClient from 'llama-stack-client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe } from 'vitest';
import { signPrincipal } from '../../shared/src/auth/principal-headers.js';
import { mock } from '../support/context.js';
import { isolationCases, type Tenants } from '../support/isolation-suite.js';
import { REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from '../support/process-harness.js';

// Per-project isolation end to end on one gateway of our own (embedded) with an internal token: the
// services take the principal the gateway signs, and sign it on to each other (responses to
// conversations and prompts, from background runs and the append outbox too). Two projects are
// reached either with API keys (when the gateway checks them: API_KEYS=test-key,test-key-b) or, on
// a gateway without key checks, by signing each project's principal ourselves, as the gateway would.
const TOKEN = 'isolation-internal-token';
const KEYS = ['test-key', 'test-key-b'] as const;

let gateway: ManagedProcess;
let dataDir: string;
let tenants: Tenants;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rgw-isolation-'));
  gateway = await spawnTs(
    'isolation-gateway',
    'gateway/src/main.ts',
    { BACKEND_BASE_URL: `${mock.origin}/v1`, DATA_DIR: dataDir, INTERNAL_TOKEN: TOKEN, API_KEYS: KEYS.join(','), SHUTDOWN_TIMEOUT_MS: '2000' },
    join(REPO_ROOT, '.tmp', 'test-logs'),
  );
  await waitHealthy(gateway);
  const origin = gateway.url;
  const baseURL = `${origin}/v1`;
  // A call signed as a project, without a key: taken where the gateway does not check keys itself.
  const signed = (projectId: string) => signPrincipal({ projectId }, TOKEN);
  const probe = await fetch(`${baseURL}/conversations/conv_${'0'.repeat(48)}`, { headers: signed('proj_probe') });
  await probe.body?.cancel();
  if (probe.status !== 401) {
    const as = (projectId: string) => ({ defaultHeaders: signed(projectId), maxRetries: 0 });
    tenants = {
      a: new OpenAI({ baseURL, apiKey: 'unused', ...as('proj_iso_a') }),
      b: new OpenAI({ baseURL, apiKey: 'unused', ...as('proj_iso_b') }),
      llamaA: new LlamaStackClient({ baseURL: origin, ...as('proj_iso_a') }),
      llamaB: new LlamaStackClient({ baseURL: origin, ...as('proj_iso_b') }),
    };
  } else {
    tenants = {
      a: new OpenAI({ baseURL, apiKey: KEYS[0], maxRetries: 0 }),
      b: new OpenAI({ baseURL, apiKey: KEYS[1], maxRetries: 0 }),
      llamaA: new LlamaStackClient({ baseURL: origin, apiKey: KEYS[0], maxRetries: 0 }),
      llamaB: new LlamaStackClient({ baseURL: origin, apiKey: KEYS[1], maxRetries: 0 }),
    };
  }
});

afterAll(async () => {
  await gateway?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('isolation between projects (own embedded gateway with an internal token)', () => {
  isolationCases(() => tenants);
});
