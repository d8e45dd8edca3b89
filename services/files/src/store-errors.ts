import { ObjectStoreUnavailableError, ServiceUnavailableError } from '@rgw/shared';

// Disk failures that are the store's state, not the request's: full, read-only, broken, not ours.
const DISK_UNAVAILABLE = new Set(['ENOSPC', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EDQUOT', 'ENOTDIR']);

/** An object store failure as the client sees it: a 503 in the envelope; anything else unchanged. */
export function mapStoreError(err: unknown): unknown {
  if (err instanceof ObjectStoreUnavailableError) return storeUnavailable(err.message);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && DISK_UNAVAILABLE.has(code)) return storeUnavailable(code);
  return err;
}

function storeUnavailable(detail: string): ServiceUnavailableError {
  return new ServiceUnavailableError(`The file store is unavailable; try again later. (${detail.slice(0, 200)})`, 'object_store_unavailable');
}

/** Runs an object store call, turning an outage into the 503. */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapStoreError(err);
  }
}
