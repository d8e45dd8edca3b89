import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import busboy from 'busboy';
import { ApiError, InvalidRequestError } from '@rgw/shared';

export interface FilePartInfo {
  filename: string;
  mimeType: string;
}

export interface MultipartReadOptions<R> {
  /** The form field that carries the bytes (`file`, or `data` for an upload part). */
  fileField: string;
  /** The text fields the form may have; any other is a 400. */
  textFields: readonly string[];
  /** Most bytes the file may have: one more and the write is aborted with `tooLarge()`. */
  maxFileBytes: number;
  tooLarge(): ApiError;
  /**
   * Called when the file part begins, with the text fields that came before it: refuses by
   * throwing, else consumes `stream` (writing it to the store, honouring `signal`) and resolves with
   * what it made of it. Its stream is already bounded by `maxFileBytes`.
   */
  onFile(stream: Readable, info: FilePartInfo, fields: Record<string, string>, signal: AbortSignal): Promise<R>;
}

export interface MultipartResult<R> {
  fields: Record<string, string>;
  /** Absent when the form had no file part. */
  file?: { info: FilePartInfo; bytes: number; result: R };
}

/** The client went away before its body was complete: nobody is left to answer. */
export class ClientGoneError extends InvalidRequestError {
  constructor() {
    super('The request body was cut off.', null, 'incomplete_body');
  }
}

const FIELD_LIMITS = { fieldNameSize: 100, fieldSize: 1024, fields: 16, parts: 20, headerPairs: 100 };

/**
 * Reads a multipart/form-data request as a stream: text fields are collected, the one file part is
 * handed to `onFile` as it arrives (never buffered whole), counted, and cut off past the limit. Any
 * failure (a bad field, the limit, the sink's own error, a client that disconnects) aborts the sink
 * and waits for it to settle, so whatever it was writing is cleaned up before the caller answers.
 */
export async function readMultipart<R>(req: IncomingMessage, opts: MultipartReadOptions<R>): Promise<MultipartResult<R>> {
  const fields: Record<string, string> = {};
  const controller = new AbortController();
  let failure: unknown;
  let sink: Promise<R> | undefined;
  let info: FilePartInfo | undefined;
  let bytes = 0;
  let rejectParse!: (err: unknown) => void;
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { ...FIELD_LIMITS, files: 1 }, defParamCharset: 'utf8' });
  } catch (err) {
    throw new InvalidRequestError(`Malformed multipart/form-data body: ${(err as Error).message}`, null, 'invalid_multipart');
  }
  const parsed = new Promise<void>((resolve, reject) => {
    rejectParse = reject;
    bb.once('finish', resolve);
  });
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    controller.abort(err);
    rejectParse(err);
  };

  bb.on('error', (err: Error) => fail(new InvalidRequestError(`Malformed multipart/form-data body: ${err.message}`, null, 'invalid_multipart')));
  bb.on('filesLimit', () => fail(new InvalidRequestError(`Only one file may be sent, in '${opts.fileField}'.`, opts.fileField, 'invalid_value')));
  bb.on('fieldsLimit', () => fail(new InvalidRequestError('Too many form fields.', null, 'invalid_multipart')));
  bb.on('partsLimit', () => fail(new InvalidRequestError('Too many form parts.', null, 'invalid_multipart')));
  bb.on('field', (name, value, fieldInfo) => {
    if (name === opts.fileField) return fail(new InvalidRequestError(`'${opts.fileField}' must be a file part (with a filename).`, opts.fileField, 'invalid_value'));
    if (!opts.textFields.includes(name)) return fail(new InvalidRequestError(`Unrecognized request argument supplied: ${name.slice(0, 100)}`, name.slice(0, 100), 'unknown_parameter'));
    if (fieldInfo.valueTruncated) return fail(new InvalidRequestError(`The value of '${name}' is too long.`, name, 'invalid_value'));
    fields[name] = value;
  });
  bb.on('file', (name, stream, fileInfo) => {
    // An unhandled 'error' on a part stream (a truncated form) would crash the process.
    stream.on('error', () => {});
    if (name !== opts.fileField) {
      stream.resume();
      return fail(new InvalidRequestError(`Unrecognized file field supplied: ${name.slice(0, 100)}`, name.slice(0, 100), 'unknown_parameter'));
    }
    info = { filename: fileInfo.filename ?? '', mimeType: fileInfo.mimeType || 'application/octet-stream' };
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > opts.maxFileBytes) {
          const err = opts.tooLarge();
          fail(err);
          return done(err);
        }
        done(null, chunk);
      },
    });
    // The sink may not have attached to `counted` yet (it writes a row first): an unheard 'error' would crash the process.
    counted.on('error', () => {});
    stream.on('error', (err) => counted.destroy(err));
    stream.pipe(counted);
    const part = info;
    sink = Promise.resolve().then(() => opts.onFile(counted, part, { ...fields }, controller.signal));
    // The sink's own failure (the limit, the store) ends the read at once: busboy would otherwise
    // wait for ever on a part nobody consumes.
    sink.catch((err) => fail(err));
  });

  const onClose = () => {
    if (!req.complete) fail(new ClientGoneError());
  };
  req.once('close', onClose);
  req.once('error', () => fail(new ClientGoneError()));
  req.pipe(bb);
  try {
    await parsed;
    if (failure !== undefined) throw failure;
    const result = sink ? await sink : undefined;
    if (failure !== undefined) throw failure;
    return { fields, file: info && sink ? { info, bytes, result: result as R } : undefined };
  } catch (err) {
    fail(err);
    // Stop feeding the parser; the early-answer guard drains (then cuts) what the client still sends.
    req.unpipe(bb);
    if (sink) await sink.catch(() => {});
    throw failure;
  } finally {
    req.off('close', onClose);
  }
}
