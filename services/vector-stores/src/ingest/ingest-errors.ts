/**
 * Why a file could not be ingested, with the `code` OpenAI puts in a vector store file's
 * `last_error.code` (`unsupported_file`, `invalid_file`; anything else is a `server_error`).
 */
export abstract class IngestFileError extends Error {
  abstract readonly code: 'unsupported_file' | 'invalid_file';
}

/** The file's type is not one we can extract text from. */
export class UnsupportedFileError extends IngestFileError {
  readonly code = 'unsupported_file' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedFileError';
  }
}

/** The file claims a supported type but its content is corrupt, binary, empty of text or too large. */
export class InvalidFileError extends IngestFileError {
  readonly code = 'invalid_file' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidFileError';
  }
}

/** The `last_error` of a vector store file for any failure: ours keep their code, the rest are `server_error`. */
export function lastErrorOf(err: unknown): { code: 'server_error' | 'unsupported_file' | 'invalid_file'; message: string } {
  if (err instanceof IngestFileError) return { code: err.code, message: err.message };
  return { code: 'server_error', message: 'The file could not be processed because of an internal error.' };
}
