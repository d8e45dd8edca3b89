import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

const inFlight = new Gauge({
  name: 'rgw_queue_jobs_in_flight',
  help: 'Jobs running in this process, by topic',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});
const finished = new Counter({
  name: 'rgw_queue_jobs_total',
  help: 'Job runs ended in this process, by topic and outcome (done, retry, dead, release)',
  labelNames: ['topic', 'outcome'] as const,
  registers: [metricsRegistry],
});
const retries = new Counter({
  name: 'rgw_queue_retries_total',
  help: 'Job runs that failed and were scheduled to run again, by topic',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});
const deadLetters = new Counter({
  name: 'rgw_queue_dead_letters_total',
  help: 'Jobs moved to their dead-letter queue by this process, by topic',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});
const runTime = new Histogram({
  name: 'rgw_queue_job_duration_seconds',
  help: 'Time one job run took, by topic',
  labelNames: ['topic'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
  registers: [metricsRegistry],
});

/**
 * Wraps one job run (the adapters' shared JobRun), whatever the adapter: in flight while `run` is
 * pending, then counted by the outcome it settles on. A run that throws is counted as `error`
 * (the adapter's own failure, not the handler's, which JobRun turns into an outcome).
 */
export async function observeJob<T extends { kind: string }>(topic: string, run: Promise<T>): Promise<T> {
  inFlight.inc({ topic });
  const started = process.hrtime.bigint();
  let outcome = 'error';
  try {
    const result = await run;
    outcome = result.kind;
    return result;
  } finally {
    inFlight.dec({ topic });
    runTime.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
    finished.inc({ topic, outcome });
    if (outcome === 'retry') retries.inc({ topic });
    else if (outcome === 'dead') deadLetters.inc({ topic });
  }
}
