import { authHeaders } from './auth.js';
import net from 'node:net';

/** One HTTP/1.1 reply as read off a raw socket. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (rather than keeping it alive after the reply). */
  closed: boolean;
}

export interface RawExchange {
  socket: net.Socket;
  /** Resolves with the first complete reply, or with null when the socket closes before one. */
  reply: Promise<RawReply | null>;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  write(data: string | Buffer): Promise<void>;
}

/**
 * Opens a TCP connection to `origin` and reads HTTP replies off it, for what a well-behaved client
 * cannot send: bodies longer or shorter than declared, malformed request lines, silence.
 */
export async function rawConnect(origin: string): Promise<RawExchange> {
  const { hostname, port } = new URL(origin);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let buffered = Buffer.alloc(0);
  let settle!: (reply: RawReply | null) => void;
  const reply = new Promise<RawReply | null>((r) => (settle = r));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const tryParse = (ended: boolean) => {
    const at = buffered.indexOf('\r\n\r\n');
    if (at === -1) return ended ? settle(null) : undefined;
    const [statusLine, ...lines] = buffered.subarray(0, at).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyBytes = buffered.subarray(at + 4);
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    if (length !== undefined && bodyBytes.length < length && !ended) return;
    if (length === undefined && !ended) return;
    const body = (length === undefined ? bodyBytes : bodyBytes.subarray(0, length)).toString('utf8');
    settle({ status: Number(statusLine!.split(' ')[1]), headers, body, closed: ended });
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    tryParse(false);
  });
  socket.once('close', () => tryParse(true));
  return {
    socket,
    reply,
    closed,
    write: (data) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.write(data, () => resolve()))),
  };
}

/** Sends `request` whole and waits for the reply (null when the server closed without one). */
export async function rawRequest(origin: string, request: string | Buffer): Promise<RawReply | null> {
  const ex = await rawConnect(origin);
  try {
    await ex.write(request);
    return await ex.reply;
  } finally {
    ex.socket.destroy();
  }
}

/** A request's head, with `Host` and the given headers. */
export function head(method: string, path: string, headers: Record<string, string | number> = {}): string {
  // With the test key (the shared platforms require one), unless the caller sets its own.
  const all = { ...authHeaders, ...headers };
  const lines = [`${method} ${path} HTTP/1.1`, 'host: localhost', ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A body sent as `transfer-encoding: chunked`, in chunks of `size` bytes. */
export function chunked(body: Buffer | string, size = 1024): Buffer {
  const bytes = Buffer.from(body);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The OpenAI error envelope, checked field by field (every error we send must be one). */
export function isEnvelope(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  return (
    !!error &&
    typeof error.message === 'string' &&
    typeof error.type === 'string' &&
    (error.param === null || typeof error.param === 'string') &&
    (error.code === null || typeof error.code === 'string')
  );
}
