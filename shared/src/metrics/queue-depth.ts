import { Gauge } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** A queue that can tell, cheaply, how many jobs wait in each topic (not running, not dead). */
export interface QueueDepthSource {
  depths(): Promise<Map<string, number>>;
}

/** A scrape must answer promptly even when the broker or database is slow: past this, last values stay. */
const SCRAPE_BUDGET_MS = 1000;

const sources = new Set<QueueDepthSource>();
/** Last depth seen per source and topic: kept when a source errs or is too slow at a scrape. */
const last = new Map<QueueDepthSource, Map<string, number>>();

new Gauge({
  name: 'rgw_queue_depth',
  help: 'Jobs waiting to run, by topic, read at scrape time (database queue: retries not yet due included; RabbitMQ: the work queue)',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
  async collect() {
    await Promise.all([...sources].map(refresh));
    // Several queue instances in one process (embedded, tests) may see the same topic: the largest
    // reading wins rather than a sum, since they usually read the same backing queue.
    const byTopic = new Map<string, number>();
    for (const depths of last.values()) for (const [topic, n] of depths) byTopic.set(topic, Math.max(n, byTopic.get(topic) ?? 0));
    this.reset();
    for (const [topic, n] of byTopic) this.set({ topic }, n);
  },
});

async function refresh(source: QueueDepthSource): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_BUDGET_MS)));
  try {
    const depths = await Promise.race([source.depths(), timeout]);
    if (depths && sources.has(source)) last.set(source, depths);
  } catch {
    // A scrape never fails for a queue's sake: the last reading stays until the next good one.
  } finally {
    clearTimeout(timer);
  }
}

/** Reports a queue's depth by topic at each scrape; call the returned function when the queue closes. */
export function watchQueueDepth(source: QueueDepthSource): () => void {
  sources.add(source);
  return () => {
    sources.delete(source);
    last.delete(source);
  };
}
