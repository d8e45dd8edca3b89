import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { TEST_INTERNAL_TOKEN } from './auth.js';
import { MockModelServer } from './mock-model-server.js';
import { distributedUnavailable, startDistributed, startEmbedded, type PlatformInfo, type RunningPlatform } from './platform-harness.js';
import { REPO_ROOT } from './process-harness.js';
import { startS3ForPlatform, type S3TestServer } from './s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    platforms: PlatformInfo[];
    mockOrigin: string;
  }
}

/**
 * Starts the scripted model server and the platform in both run modes once for the integration
 * suite. Distributed mode needs Postgres, Redis and RabbitMQ: without them it is skipped with a loud
 * notice, or fails the run when CI or REQUIRE_DISTRIBUTED=1 says it must run.
 */
export default async function setup(project: TestProject) {
  const logDir = join(REPO_ROOT, '.tmp', 'test-logs');
  const mock = await MockModelServer.start();
  mkdirSync(logDir, { recursive: true });
  // Besides the main provider ("default", from BACKEND_BASE_URL): a second provider serving the same
  // models (duplicate ids must stay addressable) and one that is down (must not break the others).
  const configFile = join(logDir, 'providers.yaml');
  writeFileSync(
    configFile,
    ['providers:', '  - id: mirror', `    baseUrl: ${mock.url}`, '  - id: offline', '    baseUrl: http://127.0.0.1:9/v1', '    models: [offline-model]', ''].join('\n'),
  );
  const env = {
    BACKEND_BASE_URL: mock.url,
    BACKEND_API_KEY: 'mock-key',
    EMBEDDING_MODEL: 'mock-embed',
    CONFIG_FILE: configFile,
    BODY_LIMIT: '2mb',
    SHUTDOWN_TIMEOUT_MS: '3000',
    // Keys required: two static projects (context.ts calls with test-key), and the admin API.
    API_KEYS: 'test-key,test-key-b',
    ADMIN_API_KEY: 'test-admin-key',
    // Known to the tests (test/support/auth.ts), which sign internal calls with it; the same in every process.
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
  };
  const running: RunningPlatform[] = [];
  let s3: S3TestServer | undefined;
  const stopAll = async () => {
    await Promise.allSettled(running.map((p) => p.stop()));
    await s3?.stop();
    await mock.close();
  };
  try {
    const modes = (process.env.TEST_MODES ?? 'embedded,distributed').split(',');
    const starts: Promise<RunningPlatform | undefined>[] = [];
    if (modes.includes('embedded')) starts.push(startEmbedded(env, logDir));
    if (modes.includes('distributed')) {
      const why = await distributedUnavailable();
      if (why) {
        const banner = `\n${'!'.repeat(78)}\n!! SKIPPED: the distributed-mode run of the integration suite.\n!! Why: ${why}\n${'!'.repeat(78)}\n`;
        if (process.env.CI || process.env.REQUIRE_DISTRIBUTED === '1') throw new Error(`distributed mode is required here but cannot run: ${why}`);
        console.warn(banner);
      } else {
        // File bytes in S3, as deployed: fauxqs, or the real server S3_ENDPOINT names.
        s3 = await startS3ForPlatform(logDir);
        starts.push(startDistributed({ ...env, ...s3.env }, logDir));
      }
    }
    for (const p of await Promise.all(starts)) if (p) running.push(p);
  } catch (err) {
    await stopAll();
    throw err;
  }
  console.log(`integration suite runs against: ${running.map((p) => `${p.mode} (${p.origin})`).join(', ')}; logs in ${logDir}`);
  project.provide('platforms', running.map(({ mode, origin, baseURL, services, extproc }) => ({ mode, origin, baseURL, services, extproc })));
  project.provide('mockOrigin', mock.origin);
  return stopAll;
}
