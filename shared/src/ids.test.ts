import { describe, expect, it } from 'vitest';
import { hasPrefix, newId } from './ids.js';

describe('newId', () => {
  it('is <prefix>_<48 hex>, beginning with its creation second, the rest random', () => {
    const before = Math.floor(Date.now() / 1000);
    const a = newId('response');
    const b = newId('response');
    const after = Math.floor(Date.now() / 1000);
    expect(a).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(hasPrefix(a, 'response')).toBe(true);
    const second = parseInt(a.slice(5, 13), 16);
    expect(second).toBeGreaterThanOrEqual(before);
    expect(second).toBeLessThanOrEqual(after);
    expect(a.slice(13)).not.toBe(b.slice(13));
  });

  it('never repeats across pool refills', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('message')));
    expect(ids.size).toBe(1000);
  });
});
