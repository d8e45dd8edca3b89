import SqliteDatabase from 'better-sqlite3';
import type { Attributes, ChunkRecord, SearchHit, SearchRequest, VectorIndex } from '../index/vector-index.js';
import { scoreChunks } from './memory-index.js';

/**
 * A brute-force VectorIndex on one SQLite file that several processes of one host share: the
 * stand-in that lets the distributed tests (API and worker in separate processes) and the crash
 * tests (a killed worker) run before the real embedded index lands. Scans every chunk of the
 * searched stores; fine for tests, not for production sizes.
 * TODO(merge): replaced by the index engineer's EmbeddedIndex in vector-index-factory.ts.
 */
export class SqliteScanIndex implements VectorIndex {
  readonly kind = 'embedded' as const;
  private readonly db: SqliteDatabase.Database;

  constructor(path: string) {
    this.db = new SqliteDatabase(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
  }

  async ensureReady(): Promise<void> {
    this.db.exec(`create table if not exists chunks (
      id text primary key, project_id text not null, store_id text not null, file_id text not null, filename text not null,
      chunk_index integer not null, text text not null, tokens integer not null, embedding blob, attributes text not null)`);
    this.db.exec('create index if not exists chunks_store_file on chunks (store_id, file_id, chunk_index)');
  }

  async ping(): Promise<void> {
    this.db.prepare('select 1').get();
  }

  async upsert(chunks: ChunkRecord[]): Promise<void> {
    const put = this.db.prepare('insert or replace into chunks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const c of chunks) {
        const vector = c.embedding ? Buffer.from(c.embedding.buffer, c.embedding.byteOffset, c.embedding.byteLength) : null;
        put.run(c.id, c.projectId, c.vectorStoreId, c.fileId, c.filename, c.chunkIndex, c.text, c.tokens, vector, JSON.stringify(c.attributes));
      }
    })();
  }

  async deleteFile(vectorStoreId: string, fileId: string): Promise<void> {
    this.db.prepare('delete from chunks where store_id = ? and file_id = ?').run(vectorStoreId, fileId);
  }

  async deleteStore(vectorStoreId: string): Promise<void> {
    this.db.prepare('delete from chunks where store_id = ?').run(vectorStoreId);
  }

  async setFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes): Promise<void> {
    this.db.prepare('update chunks set attributes = ? where store_id = ? and file_id = ?').run(JSON.stringify(attributes), vectorStoreId, fileId);
  }

  async fileChunks(vectorStoreId: string, fileId: string, opts: { afterIndex?: number; limit: number }) {
    const rows = this.db
      .prepare('select chunk_index, text from chunks where store_id = ? and file_id = ? and chunk_index > ? order by chunk_index limit ?')
      .all(vectorStoreId, fileId, opts.afterIndex ?? -1, opts.limit + 1) as { chunk_index: number; text: string }[];
    return { chunks: rows.slice(0, opts.limit).map((r) => ({ chunkIndex: r.chunk_index, text: r.text })), hasMore: rows.length > opts.limit };
  }

  async fileUsage(vectorStoreId: string, fileId: string) {
    const row = this.db.prepare('select count(*) as n, coalesce(sum(length(cast(text as blob))), 0) as bytes from chunks where store_id = ? and file_id = ?').get(vectorStoreId, fileId) as { n: number; bytes: number };
    return { chunks: row.n, bytes: row.bytes };
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const marks = req.vectorStoreIds.map(() => '?').join(', ');
    const rows = this.db.prepare(`select * from chunks where project_id = ? and store_id in (${marks})`).all(req.projectId, ...req.vectorStoreIds) as Record<string, any>[];
    return scoreChunks(
      rows.map((r) => ({
        id: r.id,
        projectId: r.project_id,
        vectorStoreId: r.store_id,
        fileId: r.file_id,
        filename: r.filename,
        chunkIndex: r.chunk_index,
        text: r.text,
        tokens: r.tokens,
        embedding: r.embedding ? new Float32Array(new Uint8Array(r.embedding as Buffer).buffer) : undefined,
        attributes: JSON.parse(r.attributes) as Attributes,
      })),
      req,
    );
  }

  /** Chunk count of a store (tests: no duplicates after a crash). */
  count(vectorStoreId: string): number {
    return (this.db.prepare('select count(*) as n from chunks where store_id = ?').get(vectorStoreId) as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
