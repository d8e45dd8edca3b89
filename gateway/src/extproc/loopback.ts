/**
 * Hands a request Envoy buffered to the platform's own HTTP listener, so ExtProc mode runs exactly
 * the route table, auth, limits and handlers HTTP clients get (no second implementation), and
 * collects the answer to send back as an immediate response. A keep-alive agent keeps the hop to a
 * reused loopback connection.
 */
import http from 'node:http';

export interface BufferedRequest {
  method: string;
  /** Path and query, as the client sent them (:path). */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export type LoopbackAnswer =
  | { kind: 'answer'; status: number; headers: [string, string][]; body: Buffer }
  /** Safe to repeat and too long or endless to buffer (an event stream, a large download): Envoy should fetch it itself. */
  | { kind: 'too-long'; reason: string };

// Hop-by-hop headers belong to one connection, not to the request; Envoy's pseudo-headers are not HTTP/1.1 headers.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer']);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith(':');
}

export class Loopback {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private readonly target: URL;

  /** `maxAnswerBytes`: the largest reply of a repeatable request (GET, HEAD) carried back in one message. */
  constructor(target: string, private readonly maxAnswerBytes: number) {
    this.target = new URL(target);
  }

  send(req: BufferedRequest, signal: AbortSignal): Promise<LoopbackAnswer> {
    const repeatable = req.method === 'GET' || req.method === 'HEAD';
    const headers: Record<string, string | string[]> = { ...req.headers };
    // The body is whole now: its length is known, whatever the client framed it with.
    delete headers['content-length'];
    if (req.body.length || !repeatable) headers['content-length'] = String(req.body.length);
    return new Promise((resolve, reject) => {
      const out = http.request(
        { hostname: this.target.hostname, port: this.target.port, method: req.method, path: req.path, headers, agent: this.agent, signal },
        (res) => {
          const declared = Number(res.headers['content-length']);
          const type = String(res.headers['content-type'] ?? '');
          if (repeatable && type.startsWith('text/event-stream')) return giveUp(res, resolve, 'an event stream');
          if (repeatable && declared > this.maxAnswerBytes) return giveUp(res, resolve, `${declared} bytes`);
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (repeatable && size > this.maxAnswerBytes) return giveUp(res, resolve, `more than ${this.maxAnswerBytes} bytes`);
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ kind: 'answer', status: res.statusCode ?? 502, headers: answerHeaders(res.rawHeaders), body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function giveUp(res: http.IncomingMessage, resolve: (a: LoopbackAnswer) => void, reason: string): void {
  res.destroy();
  resolve({ kind: 'too-long', reason });
}

/** The reply's headers in order, repeated ones (set-cookie) kept, without those Envoy sets itself (length, date). */
function answerHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!isHopByHop(name) && name !== 'date' && name !== 'content-length') out.push([name, raw[i + 1]!]);
  }
  return out;
}
