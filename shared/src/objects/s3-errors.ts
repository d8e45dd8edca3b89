import { ObjectNotFoundError, ObjectStoreUnavailableError } from './object-store.js';

/** What the SDK puts on a service error (an `S3ServiceException`) or a network failure. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);

export function isAbortError(err: unknown): boolean {
  return (err as SdkError)?.name === 'AbortError';
}

/** The object (or upload) is absent: a 404 or one of S3's "no such ..." codes. */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return NOT_FOUND_NAMES.has(e?.name ?? '') || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}

export function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

/**
 * Translates an SDK failure into the store's vocabulary. Absent objects become `ObjectNotFoundError`;
 * an abort stays an abort (the caller gave up); everything else (refused or timed-out connections,
 * 5xx, a missing bucket, refused credentials) is the store failing, not the client: services answer 503.
 */
export function toStoreError(err: unknown, key: string): Error {
  if (err instanceof ObjectNotFoundError || err instanceof ObjectStoreUnavailableError) return err;
  if (isAbortError(err)) return err as Error;
  if (isNotFound(err)) return new ObjectNotFoundError(key);
  const e = err as SdkError;
  const status = statusOf(err);
  const what = [e?.name, e?.code, status && `HTTP ${status}`].filter(Boolean).join(', ');
  return new ObjectStoreUnavailableError(`object store (S3) failed on '${key}': ${e?.message ?? String(err)}${what ? ` (${what})` : ''}`, { cause: err });
}

/** Runs one SDK call, translating its failure. */
export async function s3Call<T>(key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toStoreError(err, key);
  }
}
