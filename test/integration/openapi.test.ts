import { readFileSync } from 'node:fs';
import LlamaStackClient from 'llama-stack-client';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { platforms } from '../support/context.js';
import { TEST_KEY, authFetch } from '../support/auth.js';

const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
const rootVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe.each(platforms)('the API describes itself ($mode)', (p) => {
  const llama = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });

  it('serves the committed description at /openapi.json and /openapi.yaml, without a key', async () => {
    const json = await fetch(`${p.origin}/openapi.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(committed);
    const yaml = await fetch(`${p.origin}/openapi.yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parse(await yaml.text())).toEqual(committed);
  });

  it('serves the docs page and its assets from the package, without a key', async () => {
    const page = await fetch(`${p.origin}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js']));
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of assets) expect((await fetch(`${p.origin}${asset}`)).status, asset).toBe(200);
    expect(await (await fetch(`${p.origin}/docs/init.js`)).text()).toContain("url: '/openapi.json'");
  });

  it("gives the version in Llama Stack's shape", async () => {
    expect(await llama.inspect.version()).toEqual({ version: rootVersion });
  });

  it('lists every documented route with its method and owning service, as llama-stack-client reads them', async () => {
    const routes = await llama.routes.list();
    const documented = Object.entries(committed.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.map((r) => `${r.method} ${r.route}`).sort()).toEqual(documented.sort());
    expect(routes).toContainEqual({ route: '/v1/conversations/{conversation_id}/items', method: 'POST', provider_types: ['conversations'] });
    expect(routes).toContainEqual({ route: '/v1/chat/completions', method: 'POST', provider_types: ['gateway'] });
    expect(routes).toContainEqual({ route: '/v1/uploads/{upload_id}/parts', method: 'POST', provider_types: ['files'] });
    expect(await llama.routes.list({ api_filter: 'deprecated' })).toEqual([]);
  });

  it('serves every route it lists (none answers "unknown URL")', async () => {
    const routes = await llama.routes.list();
    const unknown: string[] = [];
    for (const r of routes) {
      // Placeholder ids: each call ends in a validation error or a 404 of the object, never of the URL.
      const path = r.route.replace('{model}', 'mock-model').replace(/\{[^}]+\}/g, 'probe_missing');
      const init: RequestInit = { method: r.method, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { headers: { 'content-type': 'application/json' }, body: '{"probe": true}' }) };
      // Streams are not asked for; a GET of a stream route answers its object.
      const res = await authFetch(`${p.origin}${path}`, init);
      const text = await res.text();
      if (res.status === 404 && text.includes('unknown_url')) unknown.push(`${r.method} ${r.route}`);
    }
    expect(unknown).toEqual([]);
  });
});
