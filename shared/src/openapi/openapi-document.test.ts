import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRoute } from '../http/route-descriptor.js';
import { buildOpenApiDocument, type RouteGroup } from './openapi-document.js';

const group = (routes: RouteGroup['routes']): RouteGroup[] => [{ service: 'things', tag: 'Things', description: 'Things.', routes }];
const opts = { title: 't', version: '1', description: 'd' };

describe('buildOpenApiDocument', () => {
  it('takes parameters, bodies, limits and defaults from the route schemas', () => {
    const doc = buildOpenApiDocument({
      ...opts,
      groups: group([
        defineRoute({
          method: 'post',
          path: '/v1/things/:thing_id',
          operationId: 'makeThing',
          summary: 'Make a thing.',
          params: z.object({ thing_id: z.string().max(64) }),
          query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), tags: z.array(z.string()).optional() }),
          body: z.strictObject({ name: z.string().min(1), size: z.number().default(3), ours: z.boolean().optional() }),
          bodyPolicy: 'json',
          response: z.object({ id: z.string() }),
        }),
      ]),
      extensionFields: { makeThing: { ours: 'because' } },
    });
    const op = doc.paths['/v1/things/{thing_id}']!.post as any;
    expect(op.parameters).toEqual([
      { name: 'thing_id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      { name: 'tags', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
    ]);
    const body = op.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['name']);
    expect(body.properties.size).toMatchObject({ default: 3 });
    expect(body.properties.ours).toMatchObject({ 'x-extension': 'because' });
    expect(body.additionalProperties).toBe(false);
    expect(op.responses['200'].content['application/json'].schema.required).toEqual(['id']);
    expect(op.responses['5XX']).toEqual({ $ref: '#/components/responses/Error' });
  });

  it('keeps a recursive schema in components instead of a reference to the whole document', () => {
    const node: z.ZodType = z.lazy(() => z.object({ children: z.array(node) }));
    const doc = buildOpenApiDocument({ ...opts, groups: group([defineRoute({ method: 'post', path: '/v1/tree', operationId: 'plantTree', summary: 'Plant a tree.', body: node, bodyPolicy: 'json' })]) });
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"$ref":"#"');
    expect(text).not.toContain('$defs');
    const ref = (doc.paths['/v1/tree']!.post as any).requestBody.content['application/json'].schema.$ref as string;
    expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
  });

  it('refuses a route without operationId or summary, and an operationId used twice', () => {
    const r = (operationId?: string, summary?: string) => defineRoute({ method: 'get', path: `/v1/${operationId}${Math.random()}`, operationId, summary, bodyPolicy: 'none' });
    expect(() => buildOpenApiDocument({ ...opts, groups: group([r(undefined, 'x')]) })).toThrow(/operationId and a summary/);
    expect(() => buildOpenApiDocument({ ...opts, groups: group([r('a', 'Aaaa.'), r('a', 'Aaaa.')]) })).toThrow(/used twice/);
  });

  it('marks extension operations and rejects an extension field the body does not have', () => {
    const route = defineRoute({ method: 'get', path: '/v1/mine', operationId: 'mine', summary: 'Ours.', bodyPolicy: 'none', extension: true, status: 204 });
    const doc = buildOpenApiDocument({ ...opts, groups: group([route]) });
    expect(doc.paths['/v1/mine']!.get).toMatchObject({ 'x-extension': true, responses: { '204': { description: expect.any(String) } } });
    const withBody = defineRoute({ method: 'post', path: '/v1/b', operationId: 'b', summary: 'Bbbb.', body: z.object({ a: z.string() }), bodyPolicy: 'json' });
    expect(() => buildOpenApiDocument({ ...opts, groups: group([withBody]), extensionFields: { b: { nope: 'x' } } })).toThrow(/not a property/);
  });

  it('describes a multipart form from its documented schema, an object field as deepObject fields', () => {
    const form = z.strictObject({ file: z.file(), purpose: z.enum(['a', 'b']), expires_after: z.object({ seconds: z.number().int().max(9) }).optional() });
    const route = defineRoute({ method: 'post', path: '/v1/up', operationId: 'up', summary: 'Up.', body: { schema: form, checkedBy: 'handler' }, bodyPolicy: 'multipart' });
    const media = (buildOpenApiDocument({ ...opts, groups: group([route]) }).paths['/v1/up']!.post as any).requestBody.content['multipart/form-data'];
    expect(media.schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(media.schema.properties.purpose.enum).toEqual(['a', 'b']);
    expect(media.schema.required).toEqual(['file', 'purpose']);
    expect(media.encoding).toEqual({ expires_after: { style: 'deepObject', explode: true } });
  });
});
