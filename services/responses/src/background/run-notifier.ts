import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups for stream followers: a run in this process signals each stored event at once.
 * Followers of a run in another process (distributed mode with several replicas) do not get these
 * and fall back to polling the store, which the timeout of `wait` provides.
 */
export class RunNotifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(responseId: string): void {
    this.emitter.emit(responseId);
  }

  /** Resolves on the next notification for `responseId`, after `timeoutMs`, or when `signal` aborts. */
  wait(responseId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(responseId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once(responseId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
