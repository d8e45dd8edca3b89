import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';
import { S3ObjectStore } from '../../shared/src/objects/s3-object-store.js';
import { freePort, REPO_ROOT, spawnTs, waitHealthy } from './process-harness.js';

/**
 * A real S3-protocol server over HTTP for tests: fauxqs (in memory, any credentials accepted), plus the
 * two S3 calls it lacks and our object store relies on: ListMultipartUploads (tests check that nothing
 * is left dangling) and UploadPartCopy (server-side joins of multipart parts). Both are answered from
 * fauxqs's own store, so they see exactly what the other calls stored.
 *
 * Run this file directly (PORT=...) to serve from a child process, which keeps the stored bytes out of
 * the test process (memory measurements) — `startS3TestServer({ childProcess: true })` does that.
 */

export interface S3TestServer {
  endpoint: string;
  /** The settings a platform process takes from its environment. */
  env: { S3_ENDPOINT: string; S3_BUCKET: string; S3_REGION: string; S3_ACCESS_KEY_ID: string; S3_SECRET_ACCESS_KEY: string };
  stop(): Promise<void>;
}

export const TEST_S3_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' } as const;

export async function startS3TestServer(opts: { childProcess?: boolean; bucket?: string; logDir?: string } = {}): Promise<S3TestServer> {
  const bucket = opts.bucket ?? 'rgw-test';
  let endpoint: string;
  let stop: () => Promise<void>;
  if (opts.childProcess) {
    const proc = await spawnTs('s3-server', 'test/support/s3-server.ts', { PORT: String(await freePort()) }, { logDir: opts.logDir });
    await waitHealthy(proc, 60_000).catch(async (err) => {
      await proc.stop();
      throw err;
    });
    endpoint = proc.url;
    stop = async () => void (await proc.stop());
  } else {
    const server = await serveFauxqs(0);
    endpoint = server.endpoint;
    stop = server.stop;
  }
  return {
    endpoint,
    env: {
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: TEST_S3_CREDENTIALS.region,
      S3_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
    },
    stop,
  };
}

/**
 * The S3 server of the distributed integration run: the real one named by S3_ENDPOINT (and S3_BUCKET,
 * S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) when the environment gives one, else fauxqs in a
 * child process. The bucket exists on return, so the platform's /health finds it.
 */
export async function startS3ForPlatform(logDir: string): Promise<S3TestServer> {
  const real = process.env.S3_ENDPOINT;
  const server: S3TestServer = real
    ? {
        endpoint: real,
        env: {
          S3_ENDPOINT: real,
          S3_BUCKET: process.env.S3_BUCKET || 'rgw-test',
          S3_REGION: process.env.S3_REGION || TEST_S3_CREDENTIALS.region,
          S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? '',
          S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? '',
        },
        stop: async () => {},
      }
    : await startS3TestServer({ childProcess: true, logDir });
  const { env } = server;
  const store = new S3ObjectStore({
    kind: 's3',
    endpoint: env.S3_ENDPOINT,
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
  });
  try {
    await store.ensureReady();
  } catch (err) {
    await server.stop();
    throw new Error(`S3 for the distributed run (${env.S3_ENDPOINT}, bucket ${env.S3_BUCKET}) is not usable: ${(err as Error).message}`, { cause: err });
  } finally {
    await store.close();
  }
  return server;
}

/** The parts of fauxqs's in-memory S3 store the two added calls read and write. */
interface FauxS3Store {
  multipartUploads: Map<string, { uploadId: string; bucket: string; key: string; initiated: Date }>;
  getObject(bucket: string, key: string): { body: Buffer };
  uploadPart(uploadId: string, partNumber: number, body: Buffer): string;
}

async function serveFauxqs(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  // The stores are not exported by the package; they are needed to share state with the added calls.
  const dist = join(REPO_ROOT, 'node_modules', 'fauxqs', 'dist');
  const load = async (path: string, name: string) => ((await import(pathToFileURL(join(dist, path)).href)) as Record<string, new () => unknown>)[name]!;
  const [S3Store, SqsStore, SnsStore] = await Promise.all([load('s3/s3Store.js', 'S3Store'), load('sqs/sqsStore.js', 'SqsStore'), load('sns/snsStore.js', 'SnsStore')]);
  const s3Store = new S3Store() as FauxS3Store;
  const app = buildApp({ logger: false, stores: { s3Store, sqsStore: new SqsStore(), snsStore: new SnsStore() } as never });
  app.addHook('onRequest', async (request, reply) => {
    const url = new URL(request.url, 'http://x');
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (request.method === 'GET' && !key && url.searchParams.has('uploads')) {
      return reply.header('content-type', 'application/xml').send(listUploads(s3Store, decodeURIComponent(bucket), url.searchParams.get('prefix') ?? ''));
    }
    const copySource = request.headers['x-amz-copy-source'];
    if (request.method === 'PUT' && key && url.searchParams.has('uploadId') && typeof copySource === 'string') {
      const raw = decodeURIComponent(copySource).replace(/^\//, '');
      const slash = raw.indexOf('/');
      try {
        let body = s3Store.getObject(raw.slice(0, slash), raw.slice(slash + 1)).body;
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(request.headers['x-amz-copy-source-range'] ?? ''));
        if (range) body = body.subarray(Number(range[1]), Number(range[2]) + 1);
        const etag = s3Store.uploadPart(url.searchParams.get('uploadId')!, Number(url.searchParams.get('partNumber')), body);
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><ETag>${etag.replaceAll('"', '&quot;')}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`;
        return reply.header('content-type', 'application/xml').send(xml);
      } catch (err) {
        const e = err as { statusCode?: number; toXml?: () => string };
        if (!e.toXml) throw err;
        return reply.status(e.statusCode ?? 500).header('content-type', 'application/xml').send(e.toXml());
      }
    }
  });
  const address = await app.listen({ port, host: '127.0.0.1' });
  return { endpoint: address, stop: () => app.close() };
}

function listUploads(store: FauxS3Store, bucket: string, prefix: string): string {
  const uploads = [...store.multipartUploads.values()].filter((u) => u.bucket === bucket && u.key.startsWith(prefix));
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ListMultipartUploadsResult><Bucket>${escape(bucket)}</Bucket><Prefix>${escape(prefix)}</Prefix><IsTruncated>false</IsTruncated>`,
    ...uploads.map((u) => `<Upload><Key>${escape(u.key)}</Key><UploadId>${escape(u.uploadId)}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`),
    '</ListMultipartUploadsResult>',
  ].join('');
}

// Run directly: serve on PORT until told to stop.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await serveFauxqs(Number(process.env.PORT ?? 0));
  console.log(`S3 test server (fauxqs) on ${server.endpoint}`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
