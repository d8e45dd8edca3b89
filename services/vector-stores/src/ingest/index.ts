// The ingest pipeline's building blocks: extract a file's text, cut it into token chunks, embed them in batches.
export * from './chunking-strategy.js';
export * from './ingest-errors.js';
export { extractText, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_MARKUP_BYTES, type ExtractOptions } from './extract-text.js';
export { DEFAULT_MAX_UNZIPPED_BYTES } from './extract-office.js';
export type { ByteSource } from './byte-stream.js';
export { declaredKind, type FileKind } from './file-type.js';
export { chunkText, type ChunkOptions, type TextChunk } from './chunk-tokens.js';
export * from './embed-batches.js';
