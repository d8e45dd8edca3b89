import { interleavedLatency, probe, send } from './load.js';
import type { BenchPlatform } from './processes.js';
import type { Section } from './report.js';
import { chatDelta, SETTINGS } from './settings.js';
import { p50, p99 } from './chat-sections.js';

const HI_CHAT = { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] };
const RESPONSE = { model: 'mock-model', input: 'hi' };
const outputTextDelta = (text: string) => text.includes('response.output_text.delta');

/**
 * Section 4: a stored Responses API call against the same prompt sent straight to the mock as a chat
 * completion, i.e. everything the platform adds over one model call (validation, storage, events).
 */
export async function responsesSection(mock: { url: string }, platform: BenchPlatform, target: number, print: (s: Section) => void): Promise<void> {
  const title = `4. Responses API (${platform.mode}), concurrency 1`;
  const stored = probe(platform.url, '/v1/responses', RESPONSE);
  const first = await send(stored).catch(() => ({ status: 0 }));
  if (first.status !== 200) {
    print({ title, rows: [], skipped: `POST /v1/responses not available (HTTP ${first.status})` });
    return;
  }
  const direct = probe(mock.url, '/v1/chat/completions', HI_CHAT);
  const directStream = probe(mock.url, '/v1/chat/completions', { ...HI_CHAT, stream: true }, chatDelta);
  const streamed = probe(platform.url, '/v1/responses', { ...RESPONSE, stream: true }, outputTextDelta);
  const warmup = Math.min(SETTINGS.warmup, 100);
  const [d, g] = await interleavedLatency([direct, stored], warmup, SETTINGS.responsesSamples);
  const [ds, gs] = await interleavedLatency([directStream, streamed], warmup, SETTINGS.responsesSamples);
  print({
    title,
    note: `${SETTINGS.responsesSamples} requests each; direct = the same prompt sent straight to the mock as a chat completion`,
    rows: [
      { metric: 'stored, p50 latency', unit: 'ms', direct: p50(d!), gateway: p50(g!), kind: 'added', target },
      { metric: 'stored, p99 latency', unit: 'ms', direct: p99(d!), gateway: p99(g!), kind: 'added' },
      { metric: 'stream, p50 to first output_text.delta', unit: 'ms', direct: p50(ds!, 'ttfdMs'), gateway: p50(gs!, 'ttfdMs'), kind: 'added', target: 2 },
    ],
  });
}
