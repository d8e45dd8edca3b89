import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { isAbortError, isNotFound, s3Call, statusOf, toStoreError } from './s3-errors.js';
import { deletePrefix, type S3Target } from './s3-target.js';

/** S3's rule: every part of a multipart upload but the last has at least 5 MiB. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Where the temporary part objects of one upload live (hidden from `list`). */
export function partPrefix(uploadId: string): string {
  return `.multipart/${encodeURIComponent(uploadId)}/`;
}

type PartKind = 'part' | 'object';

/**
 * The ETag `putPart` hands out: `p:<bytes>:<etag>` for a part stored in S3's own multipart upload,
 * `o:<bytes>:<etag>` for a part stored as a temporary object. Opaque to callers; it lets completion
 * plan the join without listing parts (ListParts is missing from some S3-compatible servers).
 */
export function partToken(kind: PartKind, bytes: number, etag: string): string {
  return `${kind === 'part' ? 'p' : 'o'}:${bytes}:${etag.replaceAll('"', '')}`;
}

interface Part {
  partNumber: number;
  kind: PartKind;
  bytes: number;
  etag: string;
}

function parseToken(part: { partNumber: number; etag: string }): Part {
  const m = /^([po]):(\d+):(.*)$/.exec(part.etag);
  if (!m) throw new Error(`part ${part.partNumber}: '${part.etag}' is not an ETag this store handed out`);
  return { partNumber: part.partNumber, kind: m[1] === 'p' ? 'part' : 'object', bytes: Number(m[2]), etag: m[3]! };
}

/** A byte range of an object in the bucket, to be appended to the result. */
interface Source {
  key: string;
  start: number;
  bytes: number;
}

type Writer = (key: string, body: Readable) => Promise<{ bytes: number }>;

class PartCopyUnsupported extends Error {}

/**
 * Joins the parts, in the order given, into `key`. Three paths, cheapest first:
 *
 * 1. Native: the order is ascending part numbers, every part went into S3's multipart upload and every
 *    part but the last has 5 MiB → CompleteMultipartUpload. No byte is copied.
 * 2. Ascending and sizes allow it, but some parts are temporary objects (size unknown or small when
 *    they arrived) → UploadPartCopy each of those into the same upload under its number, then complete.
 *    The copy happens inside S3; no byte passes through this process.
 * 3. Otherwise (a different order, or a small part that is not last) the result must be rebuilt. Parts
 *    inside S3's upload cannot be read until it completes, so those (all ≥ 5 MiB by putPart's rule) are
 *    first completed in ascending order, which yields an object at `key` whose byte ranges are the
 *    parts. Then a fresh upload at `key` takes every part in the requested order: by UploadPartCopy
 *    with source ranges when every part but the last has 5 MiB, else (or when the server lacks
 *    UploadPartCopy) by streaming each range through this process with lib-storage (bounded memory).
 *    Until it ends, `key` may hold the parts in arrival order; callers publish the object only after
 *    completion resolves.
 *
 * Afterwards the upload is closed and the temporary part objects are deleted.
 */
export async function completeS3Multipart(
  target: S3Target,
  key: string,
  uploadId: string,
  given: { partNumber: number; etag: string }[],
  write: Writer,
): Promise<{ bytes: number }> {
  const parts = given.map(parseToken);
  const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
  const ascending = parts.every((p, i) => i === 0 || p.partNumber > parts[i - 1]!.partNumber);
  const sizesAllow = (list: { bytes: number }[]) => list.every((p, i) => i === list.length - 1 || p.bytes >= MIN_PART_BYTES);

  if (parts.length > 0 && ascending && sizesAllow(parts) && parts.every((p) => p.kind === 'part')) {
    await completeUpload(target, key, uploadId, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    await deletePrefix(target, partPrefix(uploadId));
    return { bytes };
  }

  const objectsNonEmpty = parts.every((p) => p.kind === 'part' || p.bytes > 0);
  if (parts.length > 0 && ascending && sizesAllow(parts) && objectsNonEmpty && target.partCopy !== 'no') {
    try {
      const etags: { partNumber: number; etag: string }[] = [];
      for (const p of parts) {
        const source = { key: `${partPrefix(uploadId)}${p.partNumber}`, start: 0, bytes: p.bytes };
        etags.push({ partNumber: p.partNumber, etag: p.kind === 'part' ? p.etag : await copyPart(target, key, uploadId, p.partNumber, source) });
      }
      await completeUpload(target, key, uploadId, etags);
      await deletePrefix(target, partPrefix(uploadId));
      return { bytes };
    } catch (err) {
      if (!(err instanceof PartCopyUnsupported)) throw err;
      // Fall through to path 3, which can stream instead.
    }
  }

  // Path 3: make the native parts readable (one object at `key`, ascending), then rebuild.
  const native = [...new Map(parts.filter((p) => p.kind === 'part').map((p) => [p.partNumber, p])).values()].sort((a, b) => a.partNumber - b.partNumber);
  const offsets = new Map<number, number>();
  if (native.length > 0) {
    let offset = 0;
    for (const p of native) {
      offsets.set(p.partNumber, offset);
      offset += p.bytes;
    }
    await completeUpload(target, key, uploadId, native.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
  } else {
    await abortUpload(target, key, uploadId);
  }
  const sources: Source[] = parts
    .filter((p) => p.bytes > 0)
    .map((p) => (p.kind === 'part' ? { key, start: offsets.get(p.partNumber)!, bytes: p.bytes } : { key: `${partPrefix(uploadId)}${p.partNumber}`, start: 0, bytes: p.bytes }));

  let copied = false;
  if (sources.length > 0 && sizesAllow(sources) && target.partCopy !== 'no') copied = await rebuildByCopy(target, key, sources);
  if (!copied) await write(key, Readable.from(readSources(target, sources)));
  await deletePrefix(target, partPrefix(uploadId));
  return { bytes };
}

/** A fresh multipart upload at `key` made of `sources` by server-side copies; false when the server cannot copy parts. */
async function rebuildByCopy(target: S3Target, key: string, sources: Source[]): Promise<boolean> {
  const created = await s3Call(key, () => target.client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: key })));
  const uploadId = created.UploadId!;
  try {
    const etags: { partNumber: number; etag: string }[] = [];
    for (const [i, source] of sources.entries()) etags.push({ partNumber: i + 1, etag: await copyPart(target, key, uploadId, i + 1, source) });
    await completeUpload(target, key, uploadId, etags);
    return true;
  } catch (err) {
    await abortUpload(target, key, uploadId).catch(() => {});
    if (err instanceof PartCopyUnsupported) return false;
    throw err;
  }
}

/** UploadPartCopy of one source range; learns whether the server supports it at all. */
async function copyPart(target: S3Target, key: string, uploadId: string, partNumber: number, source: Source): Promise<string> {
  const copySource = `${target.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`;
  let etag: string | undefined;
  try {
    const res = await target.client.send(
      new UploadPartCopyCommand({
        Bucket: target.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        CopySource: copySource,
        CopySourceRange: `bytes=${source.start}-${source.start + source.bytes - 1}`,
      }),
    );
    etag = res.CopyPartResult?.ETag;
  } catch (err) {
    // Unanswered (network), throttled, aborted or not found: the store's state, not a missing feature.
    const status = statusOf(err);
    if (status === undefined || status === 503 || isAbortError(err) || isNotFound(err)) throw toStoreError(err, source.key);
    // Streaming is always correct, only slower: fall back for this join. A server that has never copied
    // a part (or says it cannot) is taken not to support it; once copies worked, a failure is transient.
    const unsupported = status === 501 || (err as Error).name === 'NotImplemented' || target.partCopy === 'unknown';
    if (unsupported) target.partCopy = 'no';
    throw new PartCopyUnsupported('UploadPartCopy failed', { cause: err });
  }
  // A server without UploadPartCopy may take the request for a plain (empty) UploadPart: no copy result.
  if (!etag) {
    target.partCopy = 'no';
    throw new PartCopyUnsupported();
  }
  target.partCopy = 'yes';
  return etag.replaceAll('"', '');
}

async function completeUpload(target: S3Target, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
  await s3Call(key, () =>
    target.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
      }),
    ),
  );
}

async function abortUpload(target: S3Target, key: string, uploadId: string): Promise<void> {
  try {
    await target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** The sources' bytes in order, one ranged GET at a time. */
async function* readSources(target: S3Target, sources: Source[]): AsyncIterable<Buffer> {
  for (const source of sources) {
    const range = `bytes=${source.start}-${source.start + source.bytes - 1}`;
    const res = await s3Call(source.key, () => target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: source.key, Range: range })));
    for await (const chunk of res.Body as Readable) yield chunk as Buffer;
  }
}
