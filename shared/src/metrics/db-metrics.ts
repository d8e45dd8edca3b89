import { Gauge } from 'prom-client';
import { metricsRegistry } from './registry.js';

interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  ended?: boolean;
}

const pools = new Set<PoolLike>();

new Gauge({
  name: 'rgw_db_pool_connections',
  help: 'Postgres pool of this process: connections open (total), idle, and requests waiting for one',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect() {
    let total = 0;
    let idle = 0;
    let waiting = 0;
    for (const pool of pools) {
      if (pool.ended) {
        pools.delete(pool);
        continue;
      }
      total += pool.totalCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: 'total' }, total);
    this.set({ state: 'idle' }, idle);
    this.set({ state: 'in_use' }, total - idle);
    this.set({ state: 'waiting' }, waiting);
  },
});

/** Reports a pg pool's use at each scrape (until it ends). */
export function watchPool(pool: PoolLike): void {
  pools.add(pool);
}
