import { randomUUID } from 'node:crypto';
import type { Logger } from '@rgw/shared';
import type { Lease, ResponseStore } from '../store/response-store.js';

export interface LeaseSettings {
  /** How long a run stays owned without renewal: the longest a dead process keeps a response `in_progress`. */
  leaseMs: number;
  /** How often leases are renewed (and a run notices a cancel or delete made by another process). */
  renewMs: number;
  /** How often expired runs are looked for (and at start). */
  sweepMs: number;
}

/** Settings from the environment (RESPONSE_LEASE_MS, RESPONSE_SWEEP_MS), so tests can shorten them. */
export function leaseSettings(env: NodeJS.ProcessEnv = process.env): LeaseSettings {
  const num = (name: string, fallback: number) => {
    const n = Number(env[name]);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  const leaseMs = num('RESPONSE_LEASE_MS', 10_000);
  return { leaseMs, renewMs: Math.min(300, Math.floor(leaseMs / 4)), sweepMs: num('RESPONSE_SWEEP_MS', Math.min(2_000, leaseMs)) };
}

/**
 * Ownership of running responses that a dead process cannot keep. Every process has a random
 * instance id; a running response's row names its owner and a lease expiry, which this keeper
 * renews for all of its runs with one statement per interval. The same statement tells which runs
 * were cancelled or deleted elsewhere (they are no longer renewed): their controllers abort.
 */
export class LeaseKeeper {
  readonly instanceId = randomUUID();
  private readonly runs = new Map<string, AbortController | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly store: ResponseStore,
    private readonly log: Logger,
    readonly settings: LeaseSettings,
  ) {}

  /** A fresh lease of this process. */
  lease(): Lease {
    return { owner: this.instanceId, until: Date.now() + this.settings.leaseMs };
  }

  /** Keeps the lease of a run renewed until `release`; `controller` aborts when its row stops being a visible in_progress response. */
  hold(id: string, controller?: AbortController): void {
    this.runs.set(id, controller);
  }

  release(id: string): void {
    this.runs.delete(id);
  }

  holds(id: string): boolean {
    return this.runs.has(id);
  }

  controller(id: string): AbortController | undefined {
    return this.runs.get(id);
  }

  /** Shutdown: every run of this process stops (and ends `failed`). */
  abortAll(): void {
    for (const controller of this.runs.values()) controller?.abort();
  }

  start(): void {
    this.timer ??= setInterval(() => void this.renew(), this.settings.renewMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One renewal round (exposed for tests). */
  async renew(): Promise<void> {
    if (this.renewing || this.runs.size === 0) return;
    this.renewing = true;
    try {
      const ids = [...this.runs.keys()];
      const alive = await this.store.renewLeases(this.instanceId, ids, Date.now() + this.settings.leaseMs);
      for (const id of ids) if (!alive.has(id)) this.runs.get(id)?.abort();
    } catch (err) {
      this.log.warn({ err }, 'renewing response leases failed');
    } finally {
      this.renewing = false;
    }
  }
}
