import type { Cache } from './cache.js';

interface Entry {
  value: unknown;
  expiresAt: number;
}

const SWEEP_EVERY_MS = 60_000;

export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const now = this.now();
    // Counters are written under ever-new keys (one per window) and may never be read again: expired
    // ones are swept now and then, so they cannot pile up.
    if (now - this.sweptAt > SWEEP_EVERY_MS) this.sweep(now);
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= now || typeof entry.value !== 'number') {
      this.entries.set(key, { value: by, expiresAt: now + ttlMs });
      return by;
    }
    entry.value = (entry.value as number) + by;
    return entry.value as number;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
  }
}
