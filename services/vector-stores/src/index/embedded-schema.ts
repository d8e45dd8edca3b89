import type { Database } from 'better-sqlite3';

/**
 * The embedded index's tables, in one SQLite file shared by the processes of one host:
 * - `chunks`: the rows (text, attributes as JSON, unit-length Float32 embedding as a BLOB). `rid`
 *   is AUTOINCREMENT so a deleted row's number is never reused: it labels the chunk in the ANN graph.
 * - `chunks_fts`: FTS5 external-content keyword index (bm25, porter stemming), kept by triggers.
 * - `chunk_changes`: every insert, vector change, attribute change and delete, in commit order,
 *   written by triggers whatever process writes; readers replay it to keep their in-memory ANN
 *   graph in step (`seq` only grows). Old entries are pruned; `log_floor` in `index_meta` says
 *   below which sequence a reader must rebuild instead.
 * - `index_meta.instance_id`: a random name of this file, so a graph snapshot beside it is only
 *   used with the very file it was taken of (`graph-snapshot.ts`).
 */
const DDL = `
CREATE TABLE IF NOT EXISTS chunks (
  rid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  project_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  file_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  chunk_index INTEGER NOT NULL,
  text TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  dim INTEGER,
  embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks (store_id, file_id, chunk_index);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (text, content = 'chunks', content_rowid = 'rid', tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS chunk_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, rid INTEGER NOT NULL, op TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts (rowid, text) VALUES (new.rid, new.text);
  INSERT INTO chunk_changes (rid, op) VALUES (new.rid, 'u');
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.rid, old.text);
  INSERT INTO chunk_changes (rid, op) VALUES (old.rid, 'd');
END;
CREATE TRIGGER IF NOT EXISTS chunks_au_text AFTER UPDATE OF text ON chunks WHEN old.text IS NOT new.text BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.rid, old.text);
  INSERT INTO chunks_fts (rowid, text) VALUES (new.rid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_au_vector AFTER UPDATE OF embedding, dim ON chunks
  WHEN old.embedding IS NOT new.embedding OR old.dim IS NOT new.dim BEGIN
  INSERT INTO chunk_changes (rid, op) VALUES (new.rid, 'u');
END;
CREATE TRIGGER IF NOT EXISTS chunks_au_attributes AFTER UPDATE OF attributes ON chunks WHEN old.attributes IS NOT new.attributes BEGIN
  INSERT INTO chunk_changes (rid, op) VALUES (new.rid, 'a');
END;
`;

/** Inserts a chunk row or rewrites the row of the same id (named parameters: the column names). */
export const UPSERT_SQL = `INSERT INTO chunks (id, project_id, store_id, file_id, filename, chunk_index, text, tokens, attributes, dim, embedding)
  VALUES (@id, @project_id, @store_id, @file_id, @filename, @chunk_index, @text, @tokens, @attributes, @dim, @embedding)
  ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, store_id = excluded.store_id, file_id = excluded.file_id,
    filename = excluded.filename, chunk_index = excluded.chunk_index, text = excluded.text, tokens = excluded.tokens,
    attributes = excluded.attributes, dim = excluded.dim, embedding = excluded.embedding`;

export function openSchema(db: Database): void {
  db.pragma('journal_mode = WAL');
  // WAL makes a commit durable against a process crash; a power loss may lose the last commits,
  // which the ingest worker redoes (its jobs are acknowledged after commit and idempotent).
  db.pragma('synchronous = NORMAL');
  db.exec(DDL);
  // Names this file for the graph snapshots beside it: a recreated file gets another name.
  db.prepare("INSERT OR IGNORE INTO index_meta (key, value) VALUES ('instance_id', lower(hex(randomblob(16))))").run();
}

export interface ChunkRow {
  rid: number;
  id: string;
  project_id: string;
  store_id: string;
  file_id: string;
  filename: string;
  chunk_index: number;
  text: string;
  attributes: string;
}
