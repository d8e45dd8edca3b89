import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST, pathParamNames, serviceForPath, toOpenApiPath } from '@rgw/shared';
import { apiDocument, apiDocumentText, apiRouteGroups, routeInfos } from './api-description.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('the API description', () => {
  it('is committed current in docs/openapi.json (run `npm run openapi` after changing a route)', () => {
    const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(committed === apiDocumentText(), 'docs/openapi.json is stale: run `npm run openapi`').toBe(true);
  });

  it('documents every api service of the manifest, each route under the service that owns its path', () => {
    const groups = apiRouteGroups();
    const documented = new Set(groups.map((g) => g.service));
    for (const spec of SERVICE_MANIFEST.filter((s) => s.role === 'api')) expect(documented).toContain(spec.name);
    for (const group of groups) {
      for (const route of group.routes) expect(serviceForPath(route.path) ?? 'gateway', `${route.method} ${route.path}`).toBe(group.service);
    }
  });

  it('gives every operation an operationId, a summary, a tag, its path params and answers', () => {
    const doc = apiDocument();
    const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as [string, any][]) {
        expect(METHODS).toContain(method);
        operations++;
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(op.summary?.length).toBeGreaterThan(5);
        expect(tags).toContain(op.tags[0]);
        const inPath = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        expect(inPath).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
        expect(op.responses['4XX']).toEqual({ $ref: '#/components/responses/Error' });
        expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s))).toBe(true);
      }
    }
    expect(operations).toBe(routeInfos().length);
  });

  it('states limits and defaults from the validating schemas, and marks extensions', () => {
    const list = apiDocument().paths['/v1/conversations']!.get as any;
    expect(list['x-extension']).toBe(true);
    const limit = list.parameters.find((p: any) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    expect((apiDocument().paths['/v1/conversations']!.post as any)['x-extension']).toBeUndefined();
    const search = apiDocument().paths['/v1/vector_stores/{vector_store_id}/search']!.post as any;
    expect(search.requestBody.content['application/json'].schema.properties.max_num_results).toMatchObject({ type: 'integer', minimum: 1, maximum: 50, default: 10 });
  });

  it('describes the event stream of each streaming operation', () => {
    const create = apiDocument().paths['/v1/responses']!.post as any;
    const events = create.responses['200'].content['text/event-stream']['x-event-schema'];
    expect(events.properties.type.enum).toContain('response.output_text.delta');
    const chat = apiDocument().paths['/v1/chat/completions']!.post as any;
    expect(chat.responses['200'].content['text/event-stream']['x-event-schema'].properties.object.const).toBe('chat.completion.chunk');
  });

  it('lists routes the way Llama Stack does, one per path and method', () => {
    const routes = routeInfos();
    expect(routes).toContainEqual({ route: '/v1/responses/{response_id}', method: 'GET', provider_types: ['responses'] });
    expect(routes).toContainEqual({ route: '/v1/models/{model}', method: 'GET', provider_types: ['gateway'] });
    expect(routes).toContainEqual({ route: '/v1/vector-io/query', method: 'POST', provider_types: ['vector-stores'] });
    expect(new Set(routes.map((r) => `${r.method} ${r.route}`)).size).toBe(routes.length);
    for (const group of apiRouteGroups()) for (const r of group.routes) expect(toOpenApiPath(r.path).split('{').length - 1).toBe(pathParamNames(r.path).length);
  });
});
