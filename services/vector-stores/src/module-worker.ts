import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` that sits beside the caller (`fromUrl`: the caller's
 * `import.meta.url`), as TypeScript (tsx, as every entry point of this repository runs) or as the
 * compiled build's JavaScript. Node 20 does not pass the process's loader hooks to worker threads,
 * so under tsx the thread loads its module through tsx's API.
 */
export function moduleWorker(name: string, fromUrl: string, options: WorkerOptions = {}): Worker {
  const url = new URL(`./${name}${fromUrl.endsWith('.ts') ? '.ts' : '.js'}`, fromUrl);
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const load = `import(${JSON.stringify(tsxApiUrl())}).then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(fromUrl)}))`;
  return new Worker(load, { ...options, eval: true });
}

/** Resolves on the thread's first message (`accept` may refuse it), rejects on an error or after `timeoutMs`. */
export function firstMessage<T>(worker: Worker, what: string, timeoutMs: number, accept: (msg: T) => string | undefined = () => undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in time`)), timeoutMs);
    worker.once('message', (msg: T) => {
      clearTimeout(timer);
      const refusal = accept(msg);
      if (refusal === undefined) resolve();
      else reject(new Error(`${what} said ${refusal} first`));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** tsx's ESM API (`tsx/esm/api`, its `import` condition), found from here. */
function tsxApiUrl(): string {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (resolve) return resolve('tsx/esm/api');
  // Where import.meta.resolve is missing (a test runner's transform), the `require` entry's sibling.
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}
