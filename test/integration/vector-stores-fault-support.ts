import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { APIError } from 'openai';
import { expect } from 'vitest';
import { mock } from '../support/fault-support.js';

/** Helpers of the vector-stores fault suites (embedded and distributed). */

export const STATIC = { type: 'static' as const, static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } };

/** A long text whose every chunk carries `tag`, so one test's embedding calls can be told from any other's. */
export const textOf = (tag: string, words = 256_000) => Array.from({ length: words }, (_, i) => `${tag}${i % 997}`).join(' ');

/** Search queries carry this word: their embedding call is not an ingestion batch. */
export const QUERY_MARK = 'needle';

/** Ingestion batches of a tagged file sent to the slow embedding model so far. */
export async function slowCalls(tag: string): Promise<number> {
  const calls = await mock.requests('/v1/embeddings');
  return calls.filter((r) => {
    if (r.body?.model !== 'mock-embed-words-slow') return false;
    const input = JSON.stringify(r.body?.input);
    return input.includes(`${tag}1`) && !input.includes(QUERY_MARK);
  }).length;
}

/** The inputs of every ingestion call to the slow embedding model (of a tagged file, or all of them), in the order the mock got them. */
export async function slowInputs(tag?: string): Promise<string[][]> {
  const calls = await mock.requests('/v1/embeddings');
  return calls
    .filter((r) => r.body?.model === 'mock-embed-words-slow')
    .map((r) => (Array.isArray(r.body?.input) ? (r.body.input as string[]) : [String(r.body?.input)]))
    .filter((input) => (tag === undefined || JSON.stringify(input).includes(`${tag}1`)) && !JSON.stringify(input).includes(QUERY_MARK));
}

/** Chunks per embeddings call (and per commit) of the ingest worker. */
export const WORKER_BATCH = 64;

/**
 * A resumed ingestion: the calls made after the restart embedded exactly the clean run's chunks from
 * some point on, each once, and that point is the crashed run's checkpoint: never past what the
 * index held at the crash (`committed`), at most one batch behind it (committed but not yet
 * checkpointed). Answers that point.
 */
export function expectResumed(afterRestart: string[][], clean: string[], committed: number): number {
  const embedded = afterRestart.flat();
  const resumedAt = clean.length - embedded.length;
  // Calls in flight complete out of order: compare as multisets (texts of a repetitive file may repeat).
  expect([...embedded].sort()).toEqual(clean.slice(resumedAt).sort());
  expect(resumedAt).toBeLessThanOrEqual(committed);
  expect(resumedAt).toBeGreaterThanOrEqual(committed - WORKER_BATCH);
  expect(resumedAt % WORKER_BATCH).toBe(0);
  return resumedAt;
}

/** Every chunk of a file through the content endpoint, page by page. */
export async function chunksOf(baseURL: string, storeId: string, fileId: string): Promise<string[]> {
  const texts: string[] = [];
  let page: string | null | undefined;
  do {
    const res = await contentPage(baseURL, storeId, fileId, page);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { text: string }[]; next_page: string | null };
    texts.push(...body.data.map((d) => d.text));
    page = body.next_page;
  } while (page);
  return texts;
}

export function contentPage(baseURL: string, storeId: string, fileId: string, page?: string | null) {
  return fetch(`${baseURL}/vector_stores/${storeId}/files/${fileId}/content${page ? `?page=${page}` : ''}`, { headers: { authorization: 'Bearer test-key' } });
}

export async function status(call: () => Promise<unknown>): Promise<number | 'ok'> {
  return call().then(() => 'ok' as const, (e: unknown) => (e instanceof APIError ? (e.status ?? 0) : Promise.reject(e)));
}

/**
 * Rows of a store in the vector index files under DATA_DIR (any SQLite file there, any table with a
 * column naming the store, or a table named after it), read directly: after a store is deleted no
 * API can show an orphan chunk. undefined when no index table could be matched.
 */
export function indexRows(dataDir: string, storeId: string): number | undefined {
  let matched = false;
  let rows = 0;
  const mangled = storeId.replace(/[^A-Za-z0-9]/g, '_');
  for (const name of readdirSync(dataDir).filter((f) => /\.(sqlite|sqlite3|db)$/.test(f))) {
    const db = new SqliteDatabase(join(dataDir, name), { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
      for (const { name: table } of tables) {
        if (table.includes(storeId) || table.includes(mangled)) {
          matched = true;
          rows += (db.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
          continue;
        }
        const columns = (db.prepare(`pragma table_info("${table}")`).all() as { name: string }[]).filter((c) => /^(vector_)?store_id$/i.test(c.name));
        for (const { name: column } of columns) {
          matched = true;
          rows += (db.prepare(`select count(*) as n from "${table}" where "${column}" = ?`).get(storeId) as { n: number }).n;
        }
      }
    } finally {
      db.close();
    }
  }
  return matched ? rows : undefined;
}
