import { Counter } from 'prom-client';
import { metricsRegistry } from './registry.js';

const files = new Counter({
  name: 'rgw_ingest_files_total',
  help: 'Files the ingest worker finished, by status (completed, failed)',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});
const chunks = new Counter({
  name: 'rgw_ingest_chunks_total',
  help: 'Chunks written to the vector index (rate() of it is chunks per second)',
  registers: [metricsRegistry],
});

interface IngestDeps {
  files: { finish(...args: any[]): Promise<unknown> };
  index: { upsert(records: readonly unknown[]): Promise<unknown> };
}

/**
 * The ingest processor's dependencies with its two outputs counted: chunks as they are upserted and
 * files as they finish (`finish(…, { status })`). Wrapping the dependencies keeps the pipeline itself
 * free of metrics code.
 */
export function instrumentIngest<D extends IngestDeps>(deps: D): D {
  const index = deps.index;
  const store = deps.files;
  return {
    ...deps,
    index: new Proxy(index, {
      get(target, prop, receiver) {
        if (prop !== 'upsert') return bind(target, Reflect.get(target, prop, receiver));
        return async (records: readonly unknown[]) => {
          const result = await target.upsert(records);
          chunks.inc(records.length);
          return result;
        };
      },
    }),
    files: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'finish') return bind(target, Reflect.get(target, prop, receiver));
        return async (...args: any[]) => {
          const result = await target.finish(...args);
          const status = (args.at(-1) as { status?: unknown } | undefined)?.status;
          // finish() says false when the attachment was superseded meanwhile: nothing was finished.
          if (result !== false && typeof status === 'string') files.inc({ status });
          return result;
        };
      },
    }),
  };
}

function bind(target: object, value: unknown): unknown {
  return typeof value === 'function' ? value.bind(target) : value;
}
