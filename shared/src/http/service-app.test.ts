import type { AddressInfo } from 'node:net';
import { request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logging.js';
import { jsonObject } from './json-body.js';
import { routerFor } from './register-routes.js';
import { defineRoute, type HttpMethod } from './route-descriptor.js';
import { createServiceApp } from './service-app.js';

// A `json` route without a schema echoes the parsed body, and what jsonObject makes of it.
const methods: HttpMethod[] = ['get', 'post', 'delete'];
const routes = routerFor(
  methods.map((method) =>
    defineRoute({
      method,
      path: '/echo',
      bodyPolicy: 'json',
      handler: ({ body }) => ({ raw: body === undefined ? 'undefined' : body, object: jsonObject(body) }),
    }),
  ),
  { bodyLimitBytes: 1024 },
);

let server: Server;
let origin: string;

beforeAll(async () => {
  const app = createServiceApp({ logger: createLogger('service-app-test', 'silent'), bodyLimitBytes: 1024, routes });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function send(method: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${origin}/echo`, { method, body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A request with an explicit `content-length: 0` (fetch leaves the header out for an empty body). */
function sendEmpty(method: string): Promise<{ status: number; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/echo`, { method, headers: { 'content-length': '0' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, any> }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createServiceApp body parsing', () => {
  it('parses a JSON body whatever its content type', async () => {
    for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      expect(await send('POST', '{"a":1}', { 'content-type': type }), type).toEqual({ status: 200, body: { raw: { a: 1 }, object: { a: 1 } } });
    }
    expect((await send('POST', '{"a":1}')).body.object).toEqual({ a: 1 });
  });

  it('answers 400 invalid_json to a body that is not JSON, form bodies included', async () => {
    for (const [body, type] of [['not json', 'text/plain'], ['a=1&b=2', 'application/x-www-form-urlencoded'], ['{"a":', 'application/json']]) {
      const res = await send('POST', body, { 'content-type': type! });
      expect(res.status, type).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    }
  });

  it('leaves requests without a body alone and reads an empty body as {}', async () => {
    expect(await send('GET')).toEqual({ status: 200, body: { raw: 'undefined', object: {} } });
    expect(await send('DELETE')).toEqual({ status: 200, body: { raw: 'undefined', object: {} } });
    expect(await sendEmpty('DELETE')).toEqual({ status: 200, body: { raw: {}, object: {} } });
    expect(await sendEmpty('GET')).toEqual({ status: 200, body: { raw: {}, object: {} } });
    expect(await send('POST', '', { 'content-type': 'application/json' })).toEqual({ status: 200, body: { raw: {}, object: {} } });
  });

  it('refuses a JSON value that is not an object where an object is expected', async () => {
    const res = await send('POST', '[1,2]', { 'content-type': 'text/plain' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_body');
  });

  it('keeps the body limit and the utf-8 rule', async () => {
    expect((await send('POST', JSON.stringify({ a: 'x'.repeat(2000) }), { 'content-type': 'text/plain' })).status).toBe(413);
    expect((await send('POST', '{"a":1}', { 'content-type': 'text/plain; charset=latin1' })).status).toBe(415);
  });
});
