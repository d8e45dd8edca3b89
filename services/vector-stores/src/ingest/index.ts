// The ingest pipeline's building blocks: extract a file's text, cut it into token chunks, embed them in batches.
// Composed (see ingest-pipeline.test.ts):
//   const strategy = resolveChunking(request.chunking_strategy);           // stored and returned as is
//   const text = extractText({ filename, contentType, body: objectStream });
//   for await (const batch of embedChunks(chunkText(text, chunkOptionsOf(strategy)), embed, { signal })) { upsert(batch) }
//   on failure: last_error = lastErrorOf(err)   // unsupported_file | invalid_file | server_error
export * from './chunking-strategy.js';
export * from './ingest-errors.js';
export { extractText, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_MARKUP_BYTES, type ExtractOptions } from './extract-text.js';
export { DEFAULT_MAX_UNZIPPED_BYTES } from './extract-office.js';
export type { ByteSource } from './byte-stream.js';
export { declaredKind, type FileKind } from './file-type.js';
export { chunkText, type ChunkOptions, type TextChunk } from './chunk-tokens.js';
export * from './embed-batches.js';
export { ChunkThreads } from './chunk-thread.js';
