import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError, InvalidRequestError, NotFoundError, ObjectNotFoundError, projectOf, type Logger, type ObjectStore, type RequestContext } from '@rgw/shared';
import { nowSecondsOf, type Clock } from './clock.js';
import { newFileId, newPartId, newUploadId, objectKeyOf } from './file-ids.js';
import { expirySeconds, type FilePurpose, type ExpiresAfter } from './file-schema.js';
import { toFileObject, type FileRecord } from './file-store.js';
import { readMultipart } from './multipart-reader.js';
import { mapStoreError, storeCall } from './store-errors.js';
import type { UploadRecord, UploadStore } from './upload-store.js';

export const MAX_UPLOAD_BYTES = 8 * 1024 ** 3;
export const MAX_PART_BYTES = 64 * 1024 ** 2;
/** S3's own limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/** A pending upload lives an hour, as at OpenAI. */
export const UPLOAD_TTL_SECONDS = 3600;

export interface UploadManagerOptions {
  store: UploadStore;
  objects: ObjectStore;
  clock: Clock;
  logger: Logger;
}

export interface CreateUpload {
  filename: string;
  purpose: FilePurpose;
  bytes: number;
  mime_type: string;
  expires_after?: ExpiresAfter;
}

/**
 * The Uploads API over the object store's multipart uploads (S3's own on S3; part files joined at
 * completion on disk): no second copy of the data. Expiry is judged at `now` (unix seconds).
 */
export class UploadManager {
  constructor(private readonly o: UploadManagerOptions) {}

  async create(ctx: RequestContext, body: CreateUpload) {
    if (body.bytes > MAX_UPLOAD_BYTES) throw new InvalidRequestError(`'bytes' may be at most ${MAX_UPLOAD_BYTES} (8 GB).`, 'bytes', 'invalid_value');
    const fileId = newFileId();
    const key = objectKeyOf(fileId);
    const { uploadId } = await storeCall(() => this.o.objects.createMultipart(key, { contentType: body.mime_type }));
    const createdAt = nowSecondsOf(this.o.clock);
    const record: UploadRecord = {
      id: newUploadId(),
      project_id: projectOf(ctx),
      status: 'pending',
      filename: body.filename,
      purpose: body.purpose,
      mime_type: body.mime_type,
      bytes: body.bytes,
      created_at: createdAt,
      expires_at: createdAt + UPLOAD_TTL_SECONDS,
      file_expires_after: body.expires_after?.seconds ?? null,
      file_id: fileId,
      object_key: key,
      multipart_id: uploadId,
    };
    await this.o.store.insert(record).catch(async (err) => {
      await this.o.objects.abortMultipart(key, uploadId).catch(() => {});
      throw err;
    });
    return toUploadObject(record, now(this.o.clock));
  }

  /** POST /v1/uploads/{id}/parts: the `data` part streams into the store as one part of the multipart upload. */
  async addPart(ctx: RequestContext, id: string, req: IncomingMessage, at: number) {
    const upload = await this.pending(ctx, id, at);
    const limit = Math.min(MAX_PART_BYTES, upload.bytes);
    const form = await readMultipart(req, {
      fileField: 'data',
      textFields: [],
      maxFileBytes: limit,
      tooLarge: () => new ApiError(413, `A part may have at most ${limit} bytes (64 MB, and no more than the upload's 'bytes').`, { param: 'data', code: 'part_too_large' }),
      onFile: async (stream, _info, _fields, signal) => {
        const partNumber = await this.o.store.claimPartNumber(upload.id, at);
        if (partNumber === undefined) throw await this.stateError(ctx, id, at);
        if (partNumber > MAX_PARTS) throw new InvalidRequestError(`An upload may have at most ${MAX_PARTS} parts.`, 'data', 'too_many_parts');
        try {
          const stored = await storeCall(() => this.o.objects.putPart(upload.object_key, upload.multipart_id, partNumber, stream, { signal }));
          return { partNumber, ...stored };
        } catch (err) {
          // Cancelled (or expired and swept) while this part streamed in: the multipart upload is gone.
          if (err instanceof ObjectNotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') throw await this.stateError(ctx, id, at);
          throw err;
        }
      },
    }).catch((err) => {
      throw mapStoreError(err);
    });
    if (!form.file) throw new InvalidRequestError("Missing required parameter: 'data'.", 'data', 'missing_required_parameter');
    const part = { id: newPartId(), upload_id: upload.id, project_id: upload.project_id, part_number: form.file.result.partNumber, bytes: form.file.result.bytes, etag: form.file.result.etag, created_at: now(this.o.clock) };
    if (!(await this.o.store.insertPart(part))) throw await this.stateError(ctx, id, at);
    return { id: part.id, object: 'upload.part' as const, created_at: part.created_at, upload_id: upload.id };
  }

  /**
   * POST /v1/uploads/{id}/complete: the parts, in the order given, become the file. One completion
   * holds the upload ('completing') so parallel calls cannot both assemble it; a store failure
   * hands it back (pending, parts intact) so the client can retry.
   */
  async complete(ctx: RequestContext, id: string, body: { part_ids: string[]; md5?: string }, at: number) {
    const upload = await this.pending(ctx, id, at);
    if (body.part_ids.length === 0) throw new InvalidRequestError("'part_ids' must name at least one part.", 'part_ids', 'invalid_value');
    if (new Set(body.part_ids).size !== body.part_ids.length) throw new InvalidRequestError("'part_ids' names a part more than once.", 'part_ids', 'invalid_value');
    const stored = new Map((await this.o.store.parts(upload.id)).map((p) => [p.id, p]));
    const ordered = body.part_ids.map((partId) => {
      const part = stored.get(partId);
      if (!part) throw new InvalidRequestError(`No part '${partId.slice(0, 100)}' in upload ${id}.`, 'part_ids', 'invalid_value');
      return part;
    });
    const total = ordered.reduce((sum, p) => sum + p.bytes, 0);
    if (total !== upload.bytes) {
      throw new InvalidRequestError(`The parts add up to ${total} bytes, but the upload was created with bytes=${upload.bytes}.`, 'part_ids', 'bytes_mismatch');
    }
    if (!(await this.o.store.transition(upload.id, 'pending', 'completing', at))) throw await this.stateError(ctx, id, at);
    try {
      await storeCall(() => this.o.objects.completeMultipart(upload.object_key, upload.multipart_id, ordered.map((p) => ({ partNumber: p.part_number, etag: p.etag }))));
    } catch (err) {
      await this.o.store.transition(upload.id, 'completing', 'pending');
      throw err;
    }
    if (body.md5 !== undefined) {
      const actual = await storeCall(() => md5Of(this.o.objects, upload.object_key));
      if (actual !== body.md5.toLowerCase()) {
        // The parts are spent in the assembled object: the upload cannot be completed any more.
        await this.o.objects.delete(upload.object_key).catch(() => {});
        await this.o.store.transition(upload.id, 'completing', 'cancelled');
        await this.o.store.deleteParts(upload.id);
        throw new InvalidRequestError(`The md5 of the assembled file is ${actual}, not ${body.md5.slice(0, 64)}; the upload is cancelled.`, 'md5', 'md5_mismatch');
      }
    }
    const createdAt = now(this.o.clock);
    const seconds = expirySeconds(upload.purpose as FilePurpose, upload.file_expires_after ? { anchor: 'created_at', seconds: upload.file_expires_after } : undefined);
    const file: FileRecord = {
      id: upload.file_id,
      project_id: upload.project_id,
      status: 'processed',
      object_key: upload.object_key,
      filename: upload.filename,
      purpose: upload.purpose,
      bytes: total,
      created_at: createdAt,
      expires_at: seconds === undefined ? null : createdAt + seconds,
    };
    await this.o.store.complete(upload.id, file);
    return { ...toUploadObject({ ...upload, status: 'completed' }, at), file: toFileObject(file) };
  }

  async cancel(ctx: RequestContext, id: string, at: number) {
    const upload = await this.pending(ctx, id, at);
    if (!(await this.o.store.transition(upload.id, 'pending', 'cancelled', at))) throw await this.stateError(ctx, id, at);
    await storeCall(() => this.o.objects.abortMultipart(upload.object_key, upload.multipart_id)).catch((err) => {
      // Cancelled all the same; the sweeper has no further claim on it, so say what was left.
      this.o.logger.warn({ err: (err as Error).message, upload: id }, 'could not discard the parts of a cancelled upload');
    });
    await this.o.store.deleteParts(upload.id);
    return toUploadObject({ ...upload, status: 'cancelled' }, at);
  }

  /** Discards an upload for good (the sweeper's, for expired pending uploads and stuck completions). */
  async remove(upload: UploadRecord): Promise<void> {
    await storeCall(() => this.o.objects.abortMultipart(upload.object_key, upload.multipart_id));
    // A completion cut off after the parts were joined left the assembled object, with no file row.
    if (upload.status === 'completing') await storeCall(() => this.o.objects.delete(upload.object_key));
    await this.o.store.remove(upload.id);
  }

  /** The upload if it is this project's, pending and unexpired; else the 404 or 400 that says why not. */
  private async pending(ctx: RequestContext, id: string, at: number): Promise<UploadRecord> {
    const upload = await this.o.store.get(projectOf(ctx), id);
    if (!upload || upload.status !== 'pending' || upload.expires_at <= at) throw await this.stateError(ctx, id, at, upload);
    return upload;
  }

  private async stateError(ctx: RequestContext, id: string, at: number, known?: UploadRecord): Promise<ApiError> {
    const upload = known ?? (await this.o.store.get(projectOf(ctx), id));
    if (!upload) return new NotFoundError(`No such Upload object: ${id.slice(0, 256)}`, 'upload_id', 'upload_not_found');
    if (upload.status === 'pending' && upload.expires_at <= at) return new NotFoundError(`Upload ${id} has expired.`, 'upload_id', 'upload_expired');
    const state = upload.status === 'completing' ? 'being completed' : upload.status;
    return new InvalidRequestError(`Upload ${id} is already ${state}: it takes no more parts and cannot be completed or cancelled.`, 'upload_id', 'invalid_upload_state');
  }
}

function now(clock: Clock): number {
  return nowSecondsOf(clock);
}

/** The Upload object; a pending upload past its expiry reads as 'expired'. */
function toUploadObject(u: UploadRecord, at: number) {
  const status = u.status === 'completing' ? 'pending' : u.status === 'pending' && u.expires_at <= at ? 'expired' : u.status;
  return { id: u.id, object: 'upload' as const, bytes: u.bytes, created_at: u.created_at, expires_at: u.expires_at, filename: u.filename, purpose: u.purpose, status, file: null };
}

/** md5 of a stored object, read back as a stream (the parts' own checksums cannot be combined). */
async function md5Of(objects: ObjectStore, key: string): Promise<string> {
  const { body } = await objects.get(key);
  const hash = createHash('md5');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
