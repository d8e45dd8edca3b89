import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, ObjectStoreUnavailableError } from './object-store.js';
import { toStoreError } from './s3-errors.js';

const sdkError = (name: string, status?: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('S3 failures in the store vocabulary', () => {
  it('maps absent objects and uploads to ObjectNotFoundError', () => {
    for (const err of [sdkError('NoSuchKey', 404), sdkError('NotFound', 404), sdkError('NoSuchUpload', 404), sdkError('Whatever', 404)]) {
      const mapped = toStoreError(err, 'files/p/1');
      expect(mapped).toBeInstanceOf(ObjectNotFoundError);
      expect((mapped as ObjectNotFoundError).key).toBe('files/p/1');
    }
  });

  it('maps server errors, refused connections, timeouts, a missing bucket and refused credentials to ObjectStoreUnavailableError', () => {
    const failures = [
      sdkError('InternalError', 500),
      sdkError('SlowDown', 503),
      sdkError('NoSuchBucket', 404),
      sdkError('AccessDenied', 403),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      sdkError('TimeoutError'),
    ];
    for (const err of failures) {
      const mapped = toStoreError(err, 'k');
      expect(mapped, err.name).toBeInstanceOf(ObjectStoreUnavailableError);
      expect(mapped.cause).toBe(err);
    }
  });

  it('leaves an abort an abort, and the store errors as they are', () => {
    const abort = sdkError('AbortError');
    expect(toStoreError(abort, 'k')).toBe(abort);
    const notFound = new ObjectNotFoundError('k');
    expect(toStoreError(notFound, 'other')).toBe(notFound);
  });
});
