import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { request, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logging.js';
import { routerFor } from './register-routes.js';
import { defineRoute, pathParamNames, toOpenApiPath } from './route-descriptor.js';
import { listQuerySchema } from '../pagination.js';
import { idSchema } from './route-params.js';
import { createServiceApp } from './service-app.js';

const LIMIT = 1024;

/** Bytes a multipart handler had seen when it answered, and whether the body had ended before it was called. */
let multipartSeen: { endedBeforeHandler: boolean } | null = null;
let releaseUpload: (() => void) | null = null;

const routes = routerFor(
  [
    defineRoute({
      method: 'get',
      path: '/v1/things/:thing_id',
      params: z.object({ thing_id: idSchema('conversation') }),
      query: listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc' }).extend({ free: z.string().optional() }),
      bodyPolicy: 'none',
      handler: ({ params, query, ctx }) => ({ id: params.thing_id, query, requestId: ctx.requestId, principal: ctx.principal ?? null }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/things',
      body: z.strictObject({ name: z.string().max(20), tags: z.array(z.unknown()).optional() }),
      bodyPolicy: 'json',
      handler: ({ body }) => ({ created: body.name }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/things/:thing_id/touch',
      params: z.object({ thing_id: idSchema('conversation') }),
      bodyPolicy: 'none',
      status: 204,
      handler: () => undefined,
    }),
    defineRoute({
      method: 'post',
      path: '/v1/small',
      bodyPolicy: 'json',
      bodyLimitBytes: 10,
      handler: ({ body }) => ({ body }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/uploads',
      bodyPolicy: 'multipart',
      handler: async ({ req, bodyLimitBytes }) => {
        expect(bodyLimitBytes).toBe(LIMIT);
        // The body must still be unread: the handler owns the stream.
        multipartSeen = { endedBeforeHandler: req.readableEnded };
        releaseUpload?.();
        let bytes = 0;
        for await (const chunk of req) bytes += (chunk as Buffer).length;
        return { bytes };
      },
    }),
  ],
  { bodyLimitBytes: LIMIT },
);

let server: Server;
let origin: string;
let port: number;

beforeAll(async () => {
  const app = createServiceApp({ logger: createLogger('register-routes-test', 'silent'), bodyLimitBytes: LIMIT, routes });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${origin}${path}`, { method, body, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Record<string, any> & Partial<ErrorBody> };
}

const CONV = `conv_${'a'.repeat(48)}`;

/** Sends raw bytes on a fresh socket and resolves with the status line and body of the first answer. */
function rawExchange(head: string, first: string, opts: { keepSending?: boolean } = {}): Promise<{ statusLine: string; text: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let resolved = false;
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    let timer: NodeJS.Timeout | undefined;
    socket.on('error', (err) => {
      if (!resolved) reject(err);
    });
    socket.on('connect', () => {
      socket.write(head + first);
      // A client that keeps sending after its answer: the server must still answer, then cut it off.
      if (opts.keepSending) timer = setInterval(() => socket.writable && socket.write('x'.repeat(256)), 20);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      const end = data.indexOf('\r\n\r\n');
      if (end === -1 || resolved) return;
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      resolved = true;
      resolve({ statusLine: data.slice(0, data.indexOf('\r\n')), text: data.slice(end + 4, end + 4 + length), closed: closed.finally(() => clearInterval(timer)) });
    });
  });
}

describe('route params', () => {
  it('passes parsed params, query and the request context to the handler', async () => {
    const res = await call('GET', `/v1/things/${CONV}?limit=5&after=item_1`, undefined, { 'x-request-id': 'req-abc' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: CONV, query: { after: 'item_1', limit: 5, order: 'desc' }, requestId: 'req-abc', principal: null });
  });

  it('answers a malformed id with 400 naming the param', async () => {
    for (const bad of ['abc', 'conv_', `conv_${'a'.repeat(300)}`, 'conv_a%20b', 'conv_a%00', 'conv_%C3%A9']) {
      const res = await call('GET', `/v1/things/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error, bad).toMatchObject({ type: 'invalid_request_error', param: 'thing_id' });
    }
    expect((await call('GET', '/v1/things/abc')).body.error?.message).toBe("Invalid 'thing_id': 'abc'. Expected an ID that begins with 'conv_'.");
  });

  it('refuses NUL, absurd length and unsafe characters in cursors and any query value', async () => {
    for (const [query, param] of [
      ['after=item%00', 'after'],
      [`after=${'a'.repeat(257)}`, 'after'],
      ['after=a%27%3B--', 'after'],
      ['free=x%00y', 'free'],
      [`free=${'x'.repeat(5000)}`, 'free'],
      ['limit=0', 'limit'],
    ] as const) {
      const res = await call('GET', `/v1/things/${CONV}?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error?.param, query).toBe(param);
    }
  });

  it('answers 204 when the handler returns nothing, and ignores the body of a `none` route', async () => {
    const res = await call('POST', `/v1/things/${CONV}/touch`, 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(204);
  });
});

describe('json bodies', () => {
  it('validates against the schema, naming the param', async () => {
    expect(await call('POST', '/v1/things', '{"name":"x"}')).toMatchObject({ status: 200, body: { created: 'x' } });
    const unknown = await call('POST', '/v1/things', '{"name":"x","colour":"red"}');
    expect(unknown.body.error).toMatchObject({ param: 'colour', code: 'unknown_parameter' });
    expect((await call('POST', '/v1/things', '{"name":"' + 'y'.repeat(21) + '"}')).body.error?.param).toBe('name');
    expect((await call('POST', '/v1/things', '[1]')).body.error?.code).toBe('invalid_body');
    expect((await call('POST', '/v1/things', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' })).body.error?.code).toBe('invalid_json');
  });

  it('refuses NUL in strings and nesting deeper than 64', async () => {
    const nul = await call('POST', '/v1/things', '{"name":"a\\u0000b"}');
    expect(nul.status).toBe(400);
    expect(nul.body.error?.message).toContain('NUL');
    const deep = await call('POST', '/v1/things', `{"name":"x","tags":${'['.repeat(70)}${']'.repeat(70)}}`);
    expect(deep.status).toBe(400);
    expect(deep.body.error?.code).toBe('json_too_deep');
  });

  it('applies a route’s own limit, and 415 to an encoded body', async () => {
    expect((await call('POST', '/v1/small', '{"a":"0123456789"}')).status).toBe(413);
    expect((await call('POST', '/v1/small', '{}')).status).toBe(200);
    const gz = await call('POST', '/v1/things', '{}', { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(gz.body.error?.code).toBe('unsupported_encoding');
  });

  it('answers a declared Content-Length over the limit with 413 at once, without waiting for the body', async () => {
    const head = `POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n`;
    const answer = await rawExchange(head, '{}');
    expect(answer.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    expect((JSON.parse(answer.text) as ErrorBody).error.code).toBe('request_too_large');
    // The client never sends the rest: its connection is closed after a short linger.
    await answer.closed;
  });

  it('answers 413 while a chunked body streams in past the limit, then closes the connection it stopped reading', async () => {
    const head = `POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = 'x'.repeat(2000);
    const answer = await rawExchange(head, `${chunk.length.toString(16)}\r\n${chunk}\r\n`, { keepSending: false });
    expect(answer.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    await answer.closed;
  });

  it('answers a malformed id before reading the body, and the client still gets the answer', async () => {
    const head = `POST /v1/things/nope/touch HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`;
    const answer = await rawExchange(head, 'x'.repeat(1000), { keepSending: true });
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect((JSON.parse(answer.text) as ErrorBody).error.param).toBe('thing_id');
    await answer.closed;
  });
});

describe('multipart bodies', () => {
  it('hands the body stream to the handler unread, before the upload has finished', async () => {
    multipartSeen = null;
    const handlerCalled = new Promise<void>((resolve) => (releaseUpload = resolve));
    const result = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${origin}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=abc', 'transfer-encoding': 'chunked' } }, (res: IncomingMessage) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('--abc\r\nfirst part');
      // Only once the handler runs does the rest go out: nothing in front of it waited for the body.
      void handlerCalled.then(() => req.end('x'.repeat(5000)));
    });
    const { status, body } = await result;
    expect(status).toBe(200);
    expect(multipartSeen).toEqual({ endedBeforeHandler: false });
    // Larger than the JSON limit: a multipart route does not buffer, its handler bounds what it reads.
    expect(JSON.parse(body)).toEqual({ bytes: '--abc\r\nfirst part'.length + 5000 });
  });

  it('refuses a body that is not multipart/form-data', async () => {
    const res = await call('POST', '/v1/uploads', '{}', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_content_type');
  });
});

describe('descriptors', () => {
  it('are checked when the router is built', () => {
    const handler = () => ({});
    expect(() => routerFor([defineRoute({ method: 'get', path: '/v1/x/:id', bodyPolicy: 'none', handler })], { bodyLimitBytes: 1 })).toThrow(/params schema/);
    const twice = defineRoute({ method: 'get', path: '/v1/x', bodyPolicy: 'none', handler });
    expect(() => routerFor([twice, twice], { bodyLimitBytes: 1 })).toThrow(/declared twice/);
    expect(() => routerFor([defineRoute({ method: 'get', path: '/v1/x', bodyPolicy: 'none' })], { bodyLimitBytes: 1 })).toThrow(/no handler/);
    expect(() => routerFor([defineRoute({ method: 'get', path: '/v1/x', bodyPolicy: 'none', mounted: false })], { bodyLimitBytes: 1 })).not.toThrow();
  });

  it('give their paths in OpenAPI form', () => {
    expect(toOpenApiPath('/v1/conversations/:conversation_id/items/:item_id')).toBe('/v1/conversations/{conversation_id}/items/{item_id}');
    expect(toOpenApiPath('/v1/models/*model')).toBe('/v1/models/{model}');
    expect(pathParamNames('/v1/a/:x/b/*y')).toEqual(['x', 'y']);
  });
});
