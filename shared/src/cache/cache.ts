/** A small string-keyed cache of JSON values with per-entry TTL. Memory when embedded, Redis when distributed. */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Adds `by` (may be negative) to the integer counter at `key` atomically and returns the new value.
   * A counter that did not exist starts at 0 and expires `ttlMs` after its first increment (later
   * increments keep that deadline): what fixed-window rate limits count with.
   */
  incr(key: string, by: number, ttlMs: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
