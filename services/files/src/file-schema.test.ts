import { describe, expect, it } from 'vitest';
import { contentDisposition, contentTypeOf } from './content-type.js';
import { expirySeconds, parseFormExpiresAfter, parsePurpose } from './file-schema.js';
import { expiryNow } from './clock.js';

describe('form fields of POST /v1/files', () => {
  it('checks purpose, naming it', () => {
    expect(parsePurpose('user_data')).toBe('user_data');
    expect(() => parsePurpose(undefined)).toThrow(expect.objectContaining({ status: 400, param: 'purpose', code: 'missing_required_parameter' }));
    expect(() => parsePurpose('batch_output')).toThrow(expect.objectContaining({ status: 400, param: 'purpose' }));
  });

  it('takes expires_after whole or not at all, seconds within 3600..2592000', () => {
    expect(parseFormExpiresAfter({})).toBeUndefined();
    expect(parseFormExpiresAfter({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' })).toEqual({ anchor: 'created_at', seconds: 3600 });
    expect(parseFormExpiresAfter({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '2592000' })?.seconds).toBe(2592000);
    for (const seconds of ['3599', '2592001', '1e4', '-3600', '', undefined]) {
      expect(() => parseFormExpiresAfter({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': seconds })).toThrow(expect.objectContaining({ param: 'expires_after[seconds]' }));
    }
    expect(() => parseFormExpiresAfter({ 'expires_after[seconds]': '3600' })).toThrow(expect.objectContaining({ param: 'expires_after[anchor]' }));
  });

  it('defaults batch files to 30 days and others to never', () => {
    expect(expirySeconds('batch', undefined)).toBe(2_592_000);
    expect(expirySeconds('batch', { anchor: 'created_at', seconds: 7200 })).toBe(7200);
    expect(expirySeconds('assistants', undefined)).toBeUndefined();
  });
});

describe('download headers', () => {
  it('types content by extension, case-insensitively, else octet-stream', () => {
    expect(contentTypeOf('a.PDF')).toBe('application/pdf');
    expect(contentTypeOf('x.tar.gz')).toBe('application/gzip');
    expect(contentTypeOf('README')).toBe('application/octet-stream');
    expect(contentTypeOf('weird.xyz')).toBe('application/octet-stream');
  });

  it('quotes a safe ASCII fallback and the exact name as filename*', () => {
    expect(contentDisposition('a "b"\\c.txt')).toBe(`attachment; filename="a _b__c.txt"; filename*=UTF-8''a%20%22b%22%5Cc.txt`);
    expect(contentDisposition('ünï.txt')).toContain("filename*=UTF-8''%C3%BCn%C3%AF.txt");
  });
});

describe('the expiry clock', () => {
  it('moves forward only by a well-formed internal offset', () => {
    const clock = () => 1_000_000_000_000;
    expect(expiryNow(clock)).toBe(1_000_000_000);
    expect(expiryNow(clock, { 'x-rgw-clock-offset-ms': '3600000' })).toBe(1_000_003_600);
    expect(expiryNow(clock, { 'x-rgw-clock-offset-ms': '-3600000' })).toBe(1_000_000_000);
    expect(expiryNow(clock, { 'x-rgw-clock-offset-ms': 'soon' })).toBe(1_000_000_000);
  });
});
