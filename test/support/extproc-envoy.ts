/**
 * A stand-in for Envoy in front of the platform in ExtProc mode, for machines without an Envoy
 * binary: an HTTP listener that runs each request through the ext_proc filter's protocol (headers,
 * then the buffered body, as deploy/envoy/envoy.yaml configures it), answers immediate responses
 * itself, and otherwise applies the header mutations and routes like the example's route table:
 * `x-rgw-extproc: passthrough` to the platform's HTTP listener, the model header to the model
 * upstream, streaming the reply through. So the official SDK can be pointed at "Envoy".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadExternalProcessor, type ProcessingRequest, type ProcessingResponse } from '../../gateway/src/extproc/index.js';
import { replyQueue } from './extproc-client.js';

export interface FakeEnvoyOptions {
  extproc: string;
  /** Cluster of the `x-rgw-extproc: passthrough` route (and the default route). */
  platformOrigin: string;
  /** Cluster of the model-header route (body routing). */
  modelOrigin?: string;
  modelHeader?: string;
  /** per_connection_buffer_limit_bytes: a bigger buffered body is Envoy's own 413. */
  bufferLimitBytes?: number;
}

export interface FakeEnvoy {
  origin: string;
  /** Requests that reached each cluster, by the route that took them. */
  routed: { platform: number; model: number };
  close(): Promise<void>;
}

const Client = loadExternalProcessor();

export async function startFakeEnvoy(opts: FakeEnvoyOptions): Promise<FakeEnvoy> {
  const client = new Client(opts.extproc, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 }) as never as grpc.Client & {
    Process(): grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  };
  const limit = opts.bufferLimitBytes ?? 1024 * 1024;
  const routed = { platform: 0, model: 0 };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const call = client.Process();
    const replies = replyQueue(call);
    const headers: Record<string, string> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
    const hasBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
    const pseudo = { ':method': req.method!, ':path': req.url!, ':authority': headers.host ?? '', ':scheme': 'http' };
    const entries = Object.entries({ ...pseudo, ...headers }).filter(([k]) => k !== 'host');
    res.on('close', () => call.cancel());
    call.write({ request_headers: { headers: { headers: entries.map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) }, end_of_stream: !hasBody } });
    let reply = await replies.next();
    if (answered(reply, res)) return call.end();
    apply(reply, headers);
    let body: Buffer | undefined;
    if (hasBody && !reply.mode_override) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          res.writeHead(413, { 'content-type': 'text/plain' }).end('payload too large');
          return call.end();
        }
        chunks.push(chunk as Buffer);
      }
      body = Buffer.concat(chunks);
      call.write({ request_body: { body, end_of_stream: true } });
      reply = await replies.next();
      if (answered(reply, res)) return call.end();
      apply(reply, headers);
    }
    call.end();
    const toModel = !!opts.modelOrigin && headers[opts.modelHeader ?? 'x-gateway-model-name'] !== undefined && headers['x-rgw-extproc'] !== 'passthrough';
    routed[toModel ? 'model' : 'platform']++;
    const target = new URL(toModel ? opts.modelOrigin! : opts.platformOrigin);
    const basePath = target.pathname.replace(/\/$/, '');
    const upstream = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: `${basePath}${toModel ? req.url!.replace(/^\/v1/, '') : req.url}`, headers });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.headersSent ? res.destroy() : res.writeHead(503).end('upstream connect error'));
    res.on('close', () => upstream.destroy());
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      // Envoy's answer when the processor fails and failure_mode_allow is off.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`ext_proc error: ${err.message}`);
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routed,
    close: () =>
      new Promise((r) => {
        client.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An immediate response is Envoy's local reply: written as is, and the request goes no further. */
function answered(reply: ProcessingResponse, res: http.ServerResponse): boolean {
  const r = reply.immediate_response;
  if (!r) return false;
  const headers: Record<string, string[]> = {};
  for (const { header } of r.headers?.set_headers ?? []) (headers[header.key] ??= []).push(Buffer.from(header.raw_value ?? []).toString('latin1') || header.value || '');
  res.writeHead(Number(r.status?.code) || 200, headers);
  res.end(Buffer.from(r.body ?? []));
  return true;
}

function apply(reply: ProcessingResponse, headers: Record<string, string>): void {
  const common = reply.request_headers?.response ?? reply.request_body?.response;
  for (const name of common?.header_mutation?.remove_headers ?? []) delete headers[name];
  for (const { header } of common?.header_mutation?.set_headers ?? []) headers[header.key] = Buffer.from(header.raw_value ?? []).toString('latin1') || header.value || '';
}
