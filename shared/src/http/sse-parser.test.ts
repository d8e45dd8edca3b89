import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parser.js';

const STREAM = 'event: response.created\ndata: {"a":"é ü"}\n\n: comment\ndata: line1\r\ndata: line2\r\n\r\ndata: [DONE]\n\n';
const EXPECTED = [{ event: 'response.created', data: '{"a":"é ü"}' }, { data: 'line1\nline2' }, { data: '[DONE]' }];

describe('SseParser', () => {
  it('parses a whole stream', () => {
    const p = new SseParser();
    expect([...p.push(new TextEncoder().encode(STREAM)), ...p.end()]).toEqual(EXPECTED);
  });

  it('gives the same events however the bytes are split, even inside characters and CRLF', () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let size = 1; size <= 7; size++) {
      const p = new SseParser();
      const out = [];
      for (let i = 0; i < bytes.length; i += size) out.push(...p.push(bytes.subarray(i, i + size)));
      out.push(...p.end());
      expect(out).toEqual(EXPECTED);
    }
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new SseParser();
      const out = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
      expect(out).toEqual(EXPECTED);
    }
  });

  it('flushes a final event that lacks its blank line', () => {
    const p = new SseParser();
    expect([...p.push('data: tail'), ...p.end()]).toEqual([{ data: 'tail' }]);
  });
});
