import { once } from 'node:events';
import net from 'node:net';

// Section 6's second load generator: HTTP/1.1 written and read by hand over node:net, one connection
// per transfer (Connection: close). node:http's client costs 1–3 ms of CPU per MB on its own (its
// parser, an IncomingMessage stream, a copy per chunk), more than the gateway spends, and it runs on
// the same cores: with it the bench measures itself as much as the gateway. This one sends the
// multipart body from buffers built beforehand and, for a download, reads into one reused 1 MB
// buffer (net's `onread`: no allocation, no 'data' event per read), parses the head and then only
// counts bytes up to content-length.

const CRLF2 = Buffer.from('\r\n\r\n');

/** Opens a connection to the origin's host and port; `onread` reads into one reused buffer (no 'data' events). */
async function connect(origin: string, onread?: net.OnReadOpts): Promise<net.Socket> {
  const url = new URL(origin);
  const socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true, onread });
  await once(socket, 'connect');
  return socket;
}

/** A reply's status, headers (lower-case names) and where its body starts in `data`. */
function parseHead(data: Buffer): { status: number; headers: Map<string, string>; bodyAt: number } | undefined {
  const end = data.indexOf(CRLF2);
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, bodyAt: end + 4 };
}

/** A whole (small) reply read to the connection's end; chunked bodies are decoded. */
async function readReply(socket: net.Socket): Promise<{ status: number; body: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  const all = Buffer.concat(chunks);
  const head = parseHead(all);
  if (!head) throw new Error(`no reply head in ${all.length} bytes`);
  let body = all.subarray(head.bodyAt);
  if (head.headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: head.status, body: body.toString('utf8') };
}

/**
 * POST /v1/files with a multipart body of `total` bytes: the head and the form's preamble, then
 * `block` (or its start) over and over, honouring the socket's backpressure, then the closing
 * boundary. Resolves with the new file's id.
 */
export async function rawUpload(origin: string, total: number, block: Buffer): Promise<string> {
  const boundary = 'rawbench0123456789';
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(origin);
  const head = Buffer.from(
    `POST /v1/files HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${preamble.length + total + tail.length}\r\n\r\n`,
  );
  const socket = await connect(origin);
  try {
    const failed = new Promise<never>((_, reject) => socket.once('error', reject));
    failed.catch(() => {});
    const reply = readReply(socket);
    socket.write(Buffer.concat([head, preamble]));
    for (let sent = 0; sent < total; ) {
      const n = Math.min(block.length, total - sent);
      sent += n;
      if (!socket.write(n === block.length ? block : block.subarray(0, n))) await Promise.race([once(socket, 'drain'), failed]);
    }
    socket.write(tail);
    const { status, body } = await Promise.race([reply, failed]);
    if (status !== 200) throw new Error(`upload failed: ${status} ${body.slice(0, 300)}`);
    return (JSON.parse(body) as { id: string }).id;
  } finally {
    socket.destroy();
  }
}

/** One receive buffer for every download: the socket reads into it, nothing is allocated per read. */
const RECEIVE = Buffer.allocUnsafe(1024 * 1024);

/** GET /v1/files/{id}/content: the head parsed, then the body's bytes counted up to content-length. */
export async function rawDownload(origin: string, id: string): Promise<number> {
  let onBytes: (n: number, buf: Buffer) => void = () => {};
  const socket = await connect(origin, { buffer: RECEIVE, callback: (n, buf) => (onBytes(n, buf as Buffer), true) });
  try {
    return await new Promise<number>((resolve, reject) => {
      let head: Buffer | undefined = Buffer.alloc(0);
      let expected = -1;
      let bytes = 0;
      onBytes = (n, buf) => {
        if (head) {
          head = Buffer.concat([head, buf.subarray(0, n)]);
          const parsed = parseHead(head);
          if (!parsed) return;
          if (parsed.status !== 200) return reject(new Error(`download failed: ${parsed.status}`));
          expected = Number(parsed.headers.get('content-length'));
          n = head.length - parsed.bodyAt;
          head = undefined;
        }
        bytes += n;
        if (bytes >= expected) resolve(bytes);
      };
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`connection closed after ${bytes} of ${expected} bytes`)));
      socket.write(`GET /v1/files/${id}/content HTTP/1.1\r\nHost: ${new URL(origin).host}\r\nConnection: close\r\n\r\n`);
    });
  } finally {
    socket.destroy();
  }
}
