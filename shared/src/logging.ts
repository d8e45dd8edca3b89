import { pino, destination, type Logger } from 'pino';

export type { Logger };

/** One root logger per process; requests log through `logger.child({ reqId })`. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  // Asynchronous destination: a synchronous write per log line costs the hot path a syscall.
  return pino({ name, level, base: { svc: name } }, destination({ sync: false, minLength: 0 }));
}
