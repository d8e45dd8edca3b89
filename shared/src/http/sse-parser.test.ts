import { describe, expect, it } from 'vitest';
import { SseLineTooLongError, SseParser } from './sse-parser.js';

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

describe('SseParser bounds', () => {
  it('parses a long line fed in small chunks in linear time', () => {
    const p = new SseParser();
    const piece = 'x'.repeat(1024);
    expect(p.push('data: ')).toEqual([]);
    // 6 MB in 1 KB chunks: the old quadratic re-scanning took far past the test timeout here.
    for (let i = 0; i < 6 * 1024; i++) expect(p.push(piece)).toEqual([]);
    const events = p.push('\n\n');
    expect(events).toHaveLength(1);
    expect(events[0]!.data.length).toBe(6 * 1024 * 1024);
  });

  it('throws once an unfinished line passes the limit, and not before', () => {
    const p = new SseParser(100);
    expect(p.push(`data: ${'a'.repeat(90)}`)).toEqual([]);
    expect(() => p.push('b'.repeat(20))).toThrow(SseLineTooLongError);
    const q = new SseParser(100);
    expect(q.push(`data: ${'a'.repeat(90)}\n\n`)).toEqual([{ data: 'a'.repeat(90) }]);
  });

  it('bounds an event made of many data lines as well', () => {
    const p = new SseParser(100);
    expect(() => p.push('data: 0123456789\n'.repeat(20))).toThrow(SseLineTooLongError);
  });

  it('bounds a line that arrives whole in one chunk', () => {
    const p = new SseParser(100);
    expect(() => p.push(`data: ${'a'.repeat(200)}\n\n`)).toThrow(SseLineTooLongError);
  });

  it('handles many short lines in one chunk without rescanning (no \\r anywhere)', () => {
    const p = new SseParser();
    const events = p.push('data: {"a":1}\n\n'.repeat(50_000));
    expect(events).toHaveLength(50_000);
  });

  it('treats a \\r at the end of a chunk as a line end at once, and skips the \\n that follows', () => {
    const p = new SseParser();
    expect(p.push('data: a\r\n\r')).toEqual([{ data: 'a' }]);
    expect(p.push('\ndata: b\r')).toEqual([]);
    expect(p.push('\r')).toEqual([{ data: 'b' }]);
    expect(p.end()).toEqual([]);
  });

  it('gives the same events for a random stream split at random byte boundaries', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const ends = ['\n', '\r\n', '\r'];
    let text = '';
    const expected: { data: string; event?: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const data = `{"n":${i},"t":"é😀${'z'.repeat(Math.floor(rand() * 50))}"}`;
      const end = ends[Math.floor(rand() * 3)]!;
      text += `event: e${i}${end}data: ${data}${end}${end}`;
      expected.push({ event: `e${i}`, data });
    }
    const bytes = new TextEncoder().encode(text);
    for (let round = 0; round < 20; round++) {
      const p = new SseParser();
      const out = [];
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + Math.floor(rand() * 40);
        out.push(...p.push(bytes.subarray(at, at + size)));
        at += size;
      }
      out.push(...p.end());
      expect(out).toEqual(expected);
    }
  });
});
