import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ApiError, InvalidRequestError } from '@rgw/shared';
import { boundaryOf, MultipartParser, MultipartSyntaxError } from './multipart-parser.js';

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

/** Busboy's limits of before, kept: a form is a few small fields and one file. */
const LIMITS = { fieldSize: 1024, fields: 16, parts: 20 };
/**
 * What the file part may hold in memory while its sink is busy (a store write in flight, the row
 * being inserted) before the request is paused: large enough that the socket keeps being read while
 * the store writes a batch, small enough to keep a 1 GB upload's memory flat.
 */
const FILE_BUFFER_BYTES = 256 * 1024;

const malformed = (detail: string) => new InvalidRequestError(`Malformed multipart/form-data body: ${detail}`, null, 'invalid_multipart');

/**
 * Reads a multipart/form-data request as a stream: text fields are collected, the one file part is
 * handed to `onFile` as it arrives (never buffered whole), counted, and cut off past the limit. Any
 * failure (a bad field, the limit, the sink's own error, a client that disconnects) aborts the sink
 * and waits for it to settle, so whatever it was writing is cleaned up before the caller answers.
 */
export async function readMultipart<R>(req: IncomingMessage, opts: MultipartReadOptions<R>): Promise<MultipartResult<R>> {
  const boundary = boundaryOf(req.headers['content-type']);
  if (boundary === undefined) throw malformed('no boundary in its content type');
  const fields: Record<string, string> = {};
  const controller = new AbortController();
  let failure: unknown;
  let sink: Promise<R> | undefined;
  let info: FilePartInfo | undefined;
  let bytes = 0;
  const counts = { parts: 0, fields: 0, files: 0 };
  /** The part being read: the file (its stream), a text field (its bytes so far), or a part ignored. */
  let file: Readable | undefined;
  let field: { name: string; chunks: Buffer[]; size: number } | undefined;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const parsed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    controller.abort(err);
    // The sink sees its stream fail, as well as its signal.
    file?.destroy(err as Error);
    settle.reject(err);
  };

  const parser = new MultipartParser(boundary, {
    partBegin(headers, skip) {
      if (++counts.parts > LIMITS.parts) return fail(malformed('too many form parts'));
      if (skip) return;
      const name = headers.name;
      if (name === undefined) return fail(malformed('a part without a name'));
      if (headers.filename === undefined) {
        if (name === opts.fileField) return fail(new InvalidRequestError(`'${opts.fileField}' must be a file part (with a filename).`, opts.fileField, 'invalid_value'));
        if (!opts.textFields.includes(name)) return fail(new InvalidRequestError(`Unrecognized request argument supplied: ${name.slice(0, 100)}`, name.slice(0, 100), 'unknown_parameter'));
        if (++counts.fields > LIMITS.fields) return fail(new InvalidRequestError('Too many form fields.', null, 'invalid_multipart'));
        field = { name, chunks: [], size: 0 };
        return;
      }
      if (++counts.files > 1) return fail(new InvalidRequestError(`Only one file may be sent, in '${opts.fileField}'.`, opts.fileField, 'invalid_value'));
      if (name !== opts.fileField) return fail(new InvalidRequestError(`Unrecognized file field supplied: ${name.slice(0, 100)}`, name.slice(0, 100), 'unknown_parameter'));
      const part: FilePartInfo = { filename: headers.filename, mimeType: headers.mimeType || 'application/octet-stream' };
      info = part;
      const stream = new Readable({
        highWaterMark: FILE_BUFFER_BYTES,
        read() {
          if (failure === undefined) req.resume();
        },
      });
      // The sink may not have attached yet (it writes a row first): an unheard 'error' would crash the process.
      stream.on('error', () => {});
      file = stream;
      sink = Promise.resolve().then(() => opts.onFile(stream, part, { ...fields }, controller.signal));
      // The sink's own failure (the store, a refused field) ends the read at once.
      sink.catch((err) => fail(err));
    },
    partData(data) {
      if (failure !== undefined) return;
      if (file) {
        bytes += data.length;
        if (bytes > opts.maxFileBytes) return fail(opts.tooLarge());
        if (!file.push(data)) req.pause();
      } else if (field) {
        field.size += data.length;
        if (field.size > LIMITS.fieldSize) return fail(new InvalidRequestError(`The value of '${field.name}' is too long.`, field.name, 'invalid_value'));
        field.chunks.push(data);
      }
    },
    partEnd() {
      if (failure !== undefined) return;
      if (file) {
        file.push(null);
        file = undefined;
        // What follows is small (fields, a refused part, the end): read on whatever the sink does.
        req.resume();
      } else if (field) {
        fields[field.name] = Buffer.concat(field.chunks).toString('utf8');
        field = undefined;
      }
    },
  });

  const onData = (chunk: Buffer) => {
    if (failure !== undefined) return;
    try {
      parser.write(chunk);
    } catch (err) {
      fail(err instanceof MultipartSyntaxError ? malformed(err.message) : err);
    }
  };
  const onEnd = () => {
    if (failure !== undefined) return;
    if (parser.finished) return settle.resolve();
    fail(malformed('the form ends without its closing boundary'));
  };
  const onClose = () => {
    if (!req.complete) fail(new ClientGoneError());
  };
  const onError = () => fail(new ClientGoneError());
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onClose);
  req.once('error', onError);
  req.resume();
  try {
    await parsed;
    const result = sink ? await sink : undefined;
    if (failure !== undefined) throw failure;
    return { fields, file: info && sink ? { info, bytes, result: result as R } : undefined };
  } catch (err) {
    fail(err);
    // Stop reading; the early-answer guard drains (then cuts) what the client still sends.
    req.pause();
    if (sink) await sink.catch(() => {});
    throw failure;
  } finally {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    // A late socket error must still find a listener.
    req.off('error', onError);
    req.on('error', () => {});
  }
}
