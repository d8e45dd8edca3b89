import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  ApiError,
  FILE_DELETED_TOPIC,
  InvalidRequestError,
  NotFoundError,
  ObjectNotFoundError,
  projectOf,
  toListPage,
  type Logger,
  type ObjectStore,
  type Queue,
  type RequestContext,
} from '@rgw/shared';
import { nowSecondsOf, type Clock } from './clock.js';
import { contentDisposition, contentTypeOf } from './content-type.js';
import { newFileId, objectKeyOf } from './file-ids.js';
import {
  FILE_FORM_FIELDS,
  expirySeconds,
  filenameSchema,
  parseFormExpiresAfter,
  parsePurpose,
  type FileFormFields,
  type ListFilesQuery,
} from './file-schema.js';
import { toFileObject, type FileRecord, type FileStore } from './file-store.js';
import { readMultipart } from './multipart-reader.js';
import { mapStoreError, storeCall } from './store-errors.js';

export interface FileManagerOptions {
  store: FileStore;
  objects: ObjectStore;
  queue: Queue;
  clock: Clock;
  maxFileBytes: number;
  logger: Logger;
}

/** The Files API: bytes in the object store, metadata in the files table, expiry judged at `now`. */
export class FileManager {
  constructor(private readonly o: FileManagerOptions) {}

  /**
   * POST /v1/files: the file part streams straight into the store. Its row is written first as
   * 'uploading' (so a crash mid-upload leaves something the sweeper finds), the form's fields are
   * checked once all have arrived (`purpose` may come after `file`), and any failure removes both
   * the object and the row before the error is answered.
   */
  async create(ctx: RequestContext, req: IncomingMessage) {
    const project = projectOf(ctx);
    const id = newFileId();
    const key = objectKeyOf(id);
    const createdAt = nowSecondsOf(this.o.clock);
    let rowWritten = false;
    let stored = false;
    const cleanUp = async () => {
      if (stored) await this.o.objects.delete(key).catch((err) => this.o.logger.warn({ err: (err as Error).message, key }, 'could not remove a refused upload'));
      if (rowWritten) await this.o.store.remove(id);
    };
    try {
      const form = await readMultipart(req, {
        fileField: 'file',
        textFields: FILE_FORM_FIELDS,
        maxFileBytes: this.o.maxFileBytes,
        tooLarge: () => fileTooLarge(this.o.maxFileBytes),
        onFile: async (stream, info, early, signal) => {
          // What arrived before the file is checked before a byte is stored.
          checkFields(early, false);
          const filename = checkFilename(info.filename);
          await this.o.store.insert({ id, project_id: project, status: 'uploading', object_key: key, filename, purpose: early.purpose ?? '', bytes: 0, created_at: createdAt, expires_at: null });
          rowWritten = true;
          const { bytes } = await storeCall(() => this.o.objects.put(key, stream, { signal, contentType: info.mimeType }));
          stored = true;
          return { filename, bytes };
        },
      });
      if (!form.file) throw new InvalidRequestError("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
      const { purpose, expiresAfter } = checkFields(form.fields, true);
      const seconds = expirySeconds(purpose!, expiresAfter);
      const record: FileRecord = {
        id,
        project_id: project,
        status: 'processed',
        object_key: key,
        filename: form.file.result.filename,
        purpose: purpose!,
        bytes: form.file.result.bytes,
        created_at: createdAt,
        expires_at: seconds === undefined ? null : createdAt + seconds,
      };
      await this.o.store.finish(id, { purpose: record.purpose, bytes: record.bytes, expires_at: record.expires_at });
      return toFileObject(record);
    } catch (err) {
      await cleanUp().catch((e) => this.o.logger.warn({ err: (e as Error).message, id }, 'cleanup of a failed upload'));
      throw mapStoreError(err);
    }
  }

  async list(ctx: RequestContext, query: ListFilesQuery, now: number) {
    const rows = await this.o.store.list(projectOf(ctx), query, now);
    if (!rows) throw new InvalidRequestError(`Invalid 'after': no file with id '${query.after}' to list after.`, 'after', 'invalid_value');
    return toListPage(rows.map(toFileObject), query.limit);
  }

  async get(ctx: RequestContext, id: string, now: number) {
    return toFileObject(await this.record(ctx, id, now));
  }

  /**
   * GET /v1/files/{id}/content: the bytes, streamed with backpressure; a client gone stops the read.
   * A store that can write to the response itself (disk) does, without a stream in between.
   */
  async content(ctx: RequestContext, id: string, now: number, res: ServerResponse): Promise<void> {
    const record = await this.record(ctx, id, now);
    const headers = (bytes: number) => {
      res.statusCode = 200;
      res.setHeader('content-type', contentTypeOf(record.filename));
      res.setHeader('content-length', String(bytes));
      res.setHeader('content-disposition', contentDisposition(record.filename));
      // A stored .html or .svg must not run as a page of this origin.
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('content-security-policy', "default-src 'none'; sandbox");
    };
    const objects = this.o.objects;
    try {
      if (objects.writeTo) await objects.writeTo(record.object_key, res, { onSize: headers });
      else {
        const { body, bytes } = await objects.get(record.object_key);
        headers(bytes);
        await pipeline(body, res);
      }
    } catch (err) {
      // Nothing written yet: the error is answered as usual (404, 503).
      if (!res.headersSent && !res.destroyed) {
        if (err instanceof ObjectNotFoundError) throw notFound(id);
        throw mapStoreError(err);
      }
      // Headers are out: a failure now can only end the reply early (the client sees a short body).
      if (!res.destroyed) res.destroy();
      if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') this.o.logger.warn({ err: (err as Error).message, id }, 'file content stream failed');
    }
  }

  /** DELETE /v1/files/{id}: the bytes, then the row, then the `file.deleted` event. */
  async delete(ctx: RequestContext, id: string, now: number) {
    const record = await this.record(ctx, id, now);
    await this.remove(record);
    return { id, object: 'file' as const, deleted: true };
  }

  /** Removes a file for good (the API's delete and the sweeper's): bytes first, so a store outage changes nothing. */
  async remove(record: FileRecord): Promise<void> {
    await storeCall(() => this.o.objects.delete(record.object_key));
    const removed = await this.o.store.remove(record.id);
    if (removed && record.status === 'processed') {
      await this.o.queue.publish(FILE_DELETED_TOPIC, { file_id: record.id, project_id: record.project_id, deleted_at: nowSecondsOf(this.o.clock) });
    }
  }

  private async record(ctx: RequestContext, id: string, now: number): Promise<FileRecord> {
    const record = await this.o.store.get(projectOf(ctx), id, now);
    if (!record) throw notFound(id);
    return record;
  }
}

/** The checked form fields; `complete` once every field has arrived (a missing purpose is then an error). */
function checkFields(fields: FileFormFields, complete: boolean) {
  const purpose = complete || fields.purpose !== undefined ? parsePurpose(fields.purpose) : undefined;
  const both = fields['expires_after[anchor]'] !== undefined && fields['expires_after[seconds]'] !== undefined;
  const expiresAfter = complete || both ? parseFormExpiresAfter(fields) : undefined;
  return { purpose, expiresAfter };
}

function checkFilename(filename: string): string {
  const parsed = filenameSchema.safeParse(filename);
  if (!parsed.success) throw new InvalidRequestError(`Invalid file name: ${parsed.error.issues[0]!.message}`, 'file', 'invalid_value');
  return parsed.data;
}

function fileTooLarge(max: number): ApiError {
  return new ApiError(413, `The file is larger than the limit of ${max} bytes (FILES_MAX_BYTES).`, { param: 'file', code: 'file_too_large' });
}

export function notFound(id: string): NotFoundError {
  return new NotFoundError(`No such File object: ${id.slice(0, 256)}`, 'file_id', 'file_not_found');
}
