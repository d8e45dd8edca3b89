import { mkdtempSync, readdirSync, readlinkSync, rmSync, truncateSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import OpenAI, { APIError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available, freshPostgres } from '../../../test/support/backing-services.js';
import {
  createLogger,
  createPlatform,
  createServiceApp,
  FILE_DELETED_TOPIC,
  listen,
  loadConfig,
  ObjectStoreUnavailableError,
  type FileDeletedEvent,
  type ObjectStore,
  type Platform,
  type RunningServer,
} from '@rgw/shared';
import { createFilesService } from './files-service.js';

// The service in-process on SQLite and the disk store, with a clock the tests move: expiry, the
// sweeper, cleanup after refused and cut-off uploads, and a store that is down.

const engines = ['SQLite'];
if (await available('postgres', 'files service')) engines.push('Postgres');

/** A multipart body with the parts in the order given. */
function form(parts: [string, string | Blob, string?][]): FormData {
  const f = new FormData();
  for (const [name, value, filename] of parts) {
    if (typeof value === 'string') f.append(name, value);
    else f.append(name, value, filename);
  }
  return f;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}


describe.each(engines)('files service in-process (%s)', (engine) => {
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  let platform: Platform;
  let server: RunningServer;
  let broken: RunningServer;
  let client: OpenAI;
  let t = Date.UTC(2030, 0, 1);
  const clock = () => t;
  let service: Awaited<ReturnType<typeof createFilesService>>;
  const deleted: FileDeletedEvent[] = [];
  const logger = createLogger('files-test', 'silent');

  async function serve(p: Platform): Promise<[RunningServer, Awaited<ReturnType<typeof createFilesService>>]> {
    const s = await createFilesService(p, { clock, sweepIntervalMs: 0 });
    const app = createServiceApp({ logger, bodyLimitBytes: p.config.bodyLimitBytes, routes: s.routes! });
    return [await listen(app, 0, '127.0.0.1'), s];
  }

  const objectsOnDisk = () => readdirSync(join(dir, 'objects', 'files'), { recursive: true }).length;
  const multipartDirs = () => readdirSync(join(dir, 'objects', '.multipart')).length;
  const fileRows = async () => Number((await platform.database.db.selectFrom('files').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rgw-files-svc-'));
    const pg = engine === 'Postgres' ? await freshPostgres('rgw_files') : undefined;
    dropDatabase = pg?.drop;
    platform = await createPlatform(loadConfig({ DATA_DIR: dir, FILES_MAX_BYTES: '1mb', ...(pg ? { DATABASE_URL: pg.url } : {}) }), 'files-test', { logger });
    [server, service] = await serve(platform);
    await platform.queue.consume<FileDeletedEvent>(FILE_DELETED_TOPIC, async (e) => void deleted.push(e));
    // The same service over a store that is down.
    const fail = () => Promise.reject(new ObjectStoreUnavailableError('connect ECONNREFUSED'));
    const down = { kind: 's3', ensureReady: async () => {}, ping: fail, put: fail, get: fail, head: fail, delete: fail, list: fail, createMultipart: fail, putPart: fail, completeMultipart: fail, abortMultipart: fail, close: async () => {} } as unknown as ObjectStore;
    [broken] = await serve({ ...platform, objects: down });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.files.create({ file: await toFile(Buffer.from('warm'), 'warm.txt'), purpose: 'assistants' });
  });

  afterAll(async () => {
    await server?.close(1000);
    await broken?.close(1000);
    await service?.close?.();
    await platform?.close();
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('POST /v1/files', () => {
    it('takes `file` before `purpose`, and refuses a bad purpose that came after the bytes, leaving nothing', async () => {
      const before = [objectsOnDisk(), await fileRows()];
      const ok = await fetch(`${server.url}/v1/files`, { method: 'POST', body: form([['file', new Blob(['late purpose']), 'a.txt'], ['purpose', 'user_data']]) });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ object: 'file', bytes: 12, filename: 'a.txt', purpose: 'user_data', status: 'processed', expires_at: null });
      const bad = await fetch(`${server.url}/v1/files`, { method: 'POST', body: form([['file', new Blob(['x'.repeat(1000)]), 'b.txt'], ['purpose', 'nope']]) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: unknown }).error).toMatchObject({ param: 'purpose', code: 'invalid_value' });
      expect([objectsOnDisk(), await fileRows()]).toEqual([before[0]! + 1, before[1]! + 1]);
    });

    it('answers 413 past FILES_MAX_BYTES and keeps neither object nor row', async () => {
      const before = [objectsOnDisk(), await fileRows()];
      const err = await client.files.create({ file: await toFile(Buffer.alloc(1024 * 1024 + 1), 'big.bin'), purpose: 'assistants' }).catch((e) => e);
      expect(err).toBeInstanceOf(APIError);
      expect(err.status).toBe(413);
      expect([objectsOnDisk(), await fileRows()]).toEqual(before);
    });

    it('leaves no object and no row when the client disconnects mid-upload', async () => {
      const before = [objectsOnDisk(), await fileRows()];
      const boundary = 'cutoff';
      const req = http.request(`${server.url}/v1/files`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      req.on('error', () => {});
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
      req.write(Buffer.alloc(200_000, 1));
      await new Promise((r) => setTimeout(r, 200));
      req.destroy();
      await waitFor(async () => (await fileRows()) === before[1]);
      expect([objectsOnDisk(), await fileRows()]).toEqual(before);
      expect(readdirSync(join(dir, 'objects', '.tmp'))).toEqual([]);
    });

    it('answers 503 in the envelope when the object store is down', async () => {
      const down = new OpenAI({ baseURL: `${broken.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const err = await down.files.create({ file: await toFile(Buffer.from('hi'), 'hi.txt'), purpose: 'assistants' }).catch((e) => e);
      expect(err.status).toBe(503);
      expect(err.error).toMatchObject({ code: 'object_store_unavailable', type: 'server_error' });
      const up = await down.uploads.create({ bytes: 2, filename: 'x.txt', mime_type: 'text/plain', purpose: 'assistants' }).catch((e) => e);
      expect(up.status).toBe(503);
    });
  });

  describe('GET /v1/files/{id}/content', () => {
    const MiB = 1024 * 1024;
    /** A 32 MiB file stored directly (past the 1 MB upload limit, more than loopback buffers hold). */
    async function bigFile(letter: string): Promise<{ id: string; path: string }> {
      const id = `file-${letter.repeat(48)}-${engine.toLowerCase()}`;
      const block = Buffer.alloc(MiB, letter);
      await platform.objects.put(`files/${id}`, Readable.from(Array.from({ length: 32 }, () => block)));
      await platform.database.db.insertInto('files').values({ id, project_id: 'proj_default', status: 'processed', object_key: `files/${id}`, filename: 'big.bin', purpose: 'assistants', bytes: 32 * MiB, created_at: Math.floor(t / 1000), expires_at: null }).execute();
      return { id, path: join(dir, 'objects', 'files', id) };
    }
    /** Descriptors of this process (the service runs in it) open on `path`. */
    const openOn = (path: string) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false;
        }
      }).length;
    // events.once would reject on the 'aborted' error a cut-off reply emits before closing.
    const closed = (res: http.IncomingMessage) => new Promise((resolve) => res.on('close', resolve));
    /** GETs the content and hands the response over paused, once its head has arrived. */
    async function startDownload(id: string): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
      const req = http.get(`${server.url}/v1/files/${id}/content`);
      req.on('error', () => {});
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      res.pause();
      res.on('error', () => {});
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(32 * MiB));
      return { req, res };
    }

    it('stops reading and closes the file when the client leaves mid-download', async () => {
      const { id, path } = await bigFile('l');
      const { req, res } = await startDownload(id);
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 2 * MiB) req.destroy();
      });
      res.resume();
      await closed(res);
      expect(received).toBeLessThan(32 * MiB);
      await waitFor(async () => openOn(path) === 0);
      // The service goes on serving.
      expect((await (await client.files.content(id)).arrayBuffer()).byteLength).toBe(32 * MiB);
      expect(openOn(path)).toBe(0);
    });

    it('answers 404 when the row is there but its bytes are gone, and 503 when the store is down', async () => {
      const { id, path } = await bigFile('g');
      rmSync(path);
      const res = await fetch(`${server.url}/v1/files/${id}/content`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'file_not_found', param: 'file_id' });
      const down = await fetch(`${broken.url}/v1/files/${id}/content`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error: unknown }).error).toMatchObject({ code: 'object_store_unavailable' });
    });

    it('cuts the reply short, rather than hanging, when the file is truncated while being sent', async () => {
      const { id, path } = await bigFile('k');
      const { res } = await startDownload(id);
      // The server has filled what the socket holds and waits for room, the file still open.
      await new Promise((r) => setTimeout(r, 200));
      expect(openOn(path)).toBe(1);
      truncateSync(path, 4 * MiB);
      let received = 0;
      res.on('data', (chunk: Buffer) => void (received += chunk.length));
      const started = Date.now();
      res.resume();
      await closed(res);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.complete).toBe(false);
      expect(received).toBeLessThan(32 * MiB);
      await waitFor(async () => openOn(path) === 0);
    });
  });

  describe('expiry', () => {
    it('hides an expired file at once, then the sweeper deletes its bytes and row and publishes file.deleted', async () => {
      const file = await client.files.create({ file: await toFile(Buffer.from('short-lived'), 's.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 3600 } });
      expect(file.expires_at).toBe(file.created_at + 3600);
      const batch = await client.files.create({ file: await toFile(Buffer.from('{}'), 'b.jsonl'), purpose: 'batch' });
      expect(batch.expires_at).toBe(batch.created_at + 30 * 24 * 3600);
      const objects = objectsOnDisk();
      t += 3600_000;
      await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
      await expect(client.files.content(file.id)).rejects.toMatchObject({ status: 404 });
      await expect(client.files.delete(file.id)).rejects.toMatchObject({ status: 404 });
      expect((await client.files.list()).data.map((f) => f.id)).not.toContain(file.id);
      expect((await client.files.retrieve(batch.id)).id).toBe(batch.id);
      expect(await service.sweeper.sweep()).toEqual({ files: 1, uploads: 0 });
      expect(objectsOnDisk()).toBe(objects - 1);
      await waitFor(async () => deleted.some((e) => e.file_id === file.id));
      expect(deleted.find((e) => e.file_id === file.id)).toMatchObject({ project_id: 'proj_default' });
    });

    it('sweeps what a crash left: a file row still uploading a day later, with its object', async () => {
      const id = `file-${'c'.repeat(48)}-${engine.toLowerCase()}`;
      await platform.objects.put(`files/${id}`, Readable.from([Buffer.from('orphan')]));
      const created = Math.floor(t / 1000) - 25 * 3600;
      await platform.database.db.insertInto('files').values({ id, project_id: 'proj_default', status: 'uploading', object_key: `files/${id}`, filename: 'o.bin', purpose: '', bytes: 0, created_at: created, expires_at: null }).execute();
      expect((await service.sweeper.sweep()).files).toBe(1);
      expect(await platform.objects.head(`files/${id}`)).toBeUndefined();
      expect(deleted.some((e) => e.file_id === id)).toBe(false);
    });

    it('expires a pending upload after an hour: its parts are refused, then swept', async () => {
      const upload = await client.uploads.create({ bytes: 4, filename: 'u.txt', mime_type: 'text/plain', purpose: 'assistants' });
      expect(upload.expires_at).toBe(upload.created_at + 3600);
      await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('ab'), 'p') });
      expect(multipartDirs()).toBeGreaterThan(0);
      t += 3600_000;
      await expect(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('cd'), 'p') })).rejects.toMatchObject({ status: 404 });
      await expect(client.uploads.complete(upload.id, { part_ids: [] })).rejects.toMatchObject({ status: 404 });
      expect((await service.sweeper.sweep()).uploads).toBe(1);
      expect(multipartDirs()).toBe(0);
      await expect(client.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 404 });
    });
  });
});
