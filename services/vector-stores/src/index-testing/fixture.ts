import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, createLogger, migrate, openDatabase, type Database, type FileContent, type FileObject } from '@rgw/shared';
import { IngestProcessor, type FileSource } from '../ingest-processor.js';
import type { IngestJob } from '../ingest-topics.js';
import { SearchManager } from '../search-manager.js';
import { VectorIoManager } from '../vector-io-manager.js';
import { VectorStoreFileStore } from '../vector-store-file-store.js';
import { VectorStoreManager } from '../vector-store-manager.js';
import { VECTOR_STORE_MIGRATIONS } from '../vector-store-migrations.js';
import { VectorStoreStore } from '../vector-store-store.js';
import { MemoryIndex } from './memory-index.js';

/** A hashed bag of words: texts sharing words get close vectors, so relevance can be asserted. */
export function wordVector(text: string, dims = 64): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    v[(h >>> 0) % dims]! += 1;
  }
  return v;
}

/** Files the fake Files API serves, per project; `gate` holds a file's content until released. */
export class FakeFiles implements FileSource {
  /** By `<project>/<file id>`. */
  readonly files = new Map<string, { project: string; filename: string; body: string | Uint8Array; fail?: Error }>();
  contentCalls = 0;
  gate?: Promise<void>;

  add(project: string, id: string, filename: string, body: string | Uint8Array, fail?: Error): void {
    this.files.set(`${project}/${id}`, { project, filename, body, fail });
  }

  async retrieve(id: string, opts: { principal?: { projectId: string } }): Promise<FileObject> {
    const f = this.files.get(`${opts.principal?.projectId ?? 'proj_default'}/${id}`);
    if (!f) throw new NotFoundError(`No such file: ${id}`, 'file_id');
    return { id, object: 'file', bytes: typeof f.body === 'string' ? Buffer.byteLength(f.body) : f.body.length, created_at: 0, filename: f.filename, purpose: 'assistants' };
  }

  async content(id: string, opts: { principal?: { projectId: string } }): Promise<FileContent> {
    await this.retrieve(id, opts);
    this.contentCalls++;
    const f = this.files.get(`${opts.principal?.projectId ?? 'proj_default'}/${id}`)!;
    if (f.fail) throw f.fail;
    const gate = this.gate;
    const bytes = typeof f.body === 'string' ? Buffer.from(f.body) : f.body;
    async function* body() {
      if (gate) await gate;
      yield bytes;
    }
    return { contentType: f.filename.endsWith('.png') ? 'image/png' : 'text/plain', body: body() };
  }
}

/** The service's managers and the worker's processor over one SQLite database and one memory index. */
export async function createFixture(opts: { embeddingModel?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-vs-unit-'));
  const database: Database = openDatabase({ dataDir: dir, databaseUrl: undefined });
  await migrate(database, 'vector-stores', VECTOR_STORE_MIGRATIONS);
  const log = createLogger('test', 'silent');
  const index = new MemoryIndex();
  const stores = new VectorStoreStore(database);
  const files = new VectorStoreFileStore(database);
  const fakeFiles = new FakeFiles();
  const published: IngestJob[] = [];
  const embedCalls: string[][] = [];
  const inference = {
    async embeddings<T>(body: { model: string; input?: unknown }): Promise<T> {
      if (body.model !== 'bow') throw new NotFoundError(`model ${body.model}`, 'model');
      const input = body.input as string[];
      embedCalls.push(input);
      return { data: input.map((text, index) => ({ index, embedding: wordVector(text) })) } as T;
    },
  };
  const clock = { now: 1_700_000_000 };
  const manager = new VectorStoreManager({
    now: () => clock.now,
    stores,
    files,
    index,
    queue: { publish: async (_topic, payload) => void published.push(payload as IngestJob) },
    fileApi: fakeFiles,
    defaultEmbeddingModel: 'embeddingModel' in opts ? opts.embeddingModel : 'bow',
    checkModel: async (model) => {
      if (model !== 'bow') throw new NotFoundError(`The model '${model}' does not exist.`, 'model', 'model_not_found');
    },
    log,
  });
  const search = new SearchManager({ manager, stores, index, inference, now: () => clock.now });
  const vectorIo = new VectorIoManager({ manager, stores, index, inference });
  const processor = new IngestProcessor({ stores, files, index, fileSource: fakeFiles, inference, log, batchSize: 4 });
  const jobCtx = (attempt = 1) => ({ attempt, maxAttempts: 3, signal: new AbortController().signal, heartbeat: async () => {} });
  /** Runs every published job once, in order (what the worker would do). */
  const drain = async () => {
    while (published.length) await processor.run(published.shift()!, jobCtx());
  };
  return {
    clock,
    database,
    index,
    stores,
    files,
    fakeFiles,
    published,
    embedCalls,
    manager,
    search,
    vectorIo,
    processor,
    jobCtx,
    drain,
    async close() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
