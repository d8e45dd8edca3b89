import { beforeEach, describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST } from '@rgw/shared';
import { mock, openai, platforms } from '../support/context.js';

/** The value of one Prometheus sample (labels matched in any order), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const set = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const scrape = async (origin: string) => {
  const res = await fetch(`${origin}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

describe.each(platforms)('probes and metrics ($mode)', (p) => {
  beforeEach(() => mock.reset());

  it('answers /readyz and /livez on the gateway without a key', async () => {
    const ready = await fetch(`${p.origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('OK');
    expect((await fetch(`${p.origin}/livez`)).status).toBe(200);
  });

  it('counts a chat completion in /metrics: the request by route, the model-server call and its tokens', async () => {
    const before = await scrape(p.origin);
    const calls = (t: string) => sample(t, 'rgw_model_requests_total', { provider: 'default', model: 'mock-model', endpoint: '/chat/completions', status: '200' }) ?? 0;
    const tokensIn = (t: string) => sample(t, 'rgw_model_tokens_total', { model: 'mock-model', direction: 'input' }) ?? 0;
    const routeCount = (t: string) => sample(t, 'rgw_http_requests_total', { route: '/v1/chat/completions', method: 'POST', status: '200' }) ?? 0;
    await openai(p).chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hello' }] });
    const after = await scrape(p.origin);
    expect(calls(after) - calls(before)).toBe(1);
    expect(routeCount(after) - routeCount(before)).toBe(1);
    expect(tokensIn(after) - tokensIn(before)).toBeGreaterThan(0);
    expect(after).toMatch(/rgw_model_time_to_first_token_seconds_count\{[^}]*model="mock-model"/);
    expect(after).toMatch(/rgw_http_request_duration_seconds_bucket\{/);
    expect(after).toMatch(/rgw_process_cpu_seconds_total/);
  });

  it('counts the tokens of the model calls a response makes, by model and project, in the responses process', async () => {
    // Embedded, the responses service shares the gateway's process; distributed, it scrapes its own.
    const origin = p.mode === 'distributed' ? p.services!.responses! : p.origin;
    const tokens = (t: string, direction: string) => sample(t, 'rgw_model_tokens_total', { model: 'mock-model', direction }) ?? 0;
    const before = await scrape(origin);
    const response = await openai(p).responses.create({ model: 'mock-model', input: 'hello', store: false });
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    const after = await scrape(origin);
    // At least this response's (other tests of the file may run model calls too, never concurrently).
    expect(tokens(after, 'input') - tokens(before, 'input')).toBeGreaterThanOrEqual(response.usage!.input_tokens);
    expect(tokens(after, 'output') - tokens(before, 'output')).toBeGreaterThanOrEqual(response.usage!.output_tokens);
    expect(after).toMatch(/rgw_model_tokens_total\{[^}]*model="mock-model"[^}]*project="[^"]+"/);
  });

  it('labels requests by route template, never by raw path', async () => {
    await openai(p).responses.retrieve('resp_doesnotexist').catch(() => {});
    const text = await scrape(p.origin);
    expect(text).not.toContain('resp_doesnotexist');
  });
});

// Each service process of the distributed platform serves its own probes and metrics.
describe.each(platforms.filter((q) => q.mode === 'distributed'))('service processes ($mode)', (p) => {
  it('answers /readyz and /metrics in every service process, without the internal credential', async () => {
    for (const spec of SERVICE_MANIFEST) {
      const origin = p.services![spec.name]!;
      expect(origin, spec.name).toBeDefined();
      const ready = await fetch(`${origin}/readyz`);
      expect(ready.status, spec.name).toBe(200);
      expect(((await ready.json()) as { service: string }).service).toBe(spec.name);
      expect(await scrape(origin)).toMatch(/^rgw_process_cpu_seconds_total/m);
    }
  });
});
