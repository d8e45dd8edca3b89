import { describe, expect, it } from 'vitest';
import { jsonBody, passThroughAtHeaders, splitPath, wantsStream, type RequestHead } from './routing.js';

const head = (method: string, path: string, headers: Record<string, string> = {}): RequestHead => ({ method, path, ...splitPath(path), headers });

describe('extproc routing decisions', () => {
  it('passes through at the headers phase: resumed streams, multipart, declared bodies over the limit', () => {
    expect(passThroughAtHeaders(head('GET', '/v1/responses/resp_1?stream=true'), 1000)).toBe('response stream');
    expect(passThroughAtHeaders(head('GET', '/v1/responses/resp_1?stream=false'), 1000)).toBeUndefined();
    expect(passThroughAtHeaders(head('GET', '/v1/responses/resp_1/input_items?stream=true'), 1000)).toBeUndefined();
    expect(passThroughAtHeaders(head('POST', '/v1/files', { 'content-type': 'multipart/form-data; boundary=x' }), 1000)).toBe('multipart upload');
    expect(passThroughAtHeaders(head('POST', '/v1/responses', { 'content-length': '1001' }), 1000)).toMatch(/exceeds EXTPROC_BUFFER_LIMIT/);
    expect(passThroughAtHeaders(head('POST', '/v1/responses', { 'content-length': '1000' }), 1000)).toBeUndefined();
  });

  it('reads stream: true only as a JSON boolean on the streaming endpoints', () => {
    const json = (s: string) => jsonBody(head('POST', '/v1/responses', { 'content-type': 'application/json' }), Buffer.from(s));
    expect(wantsStream(head('POST', '/v1/responses'), json('{"stream":true}'))).toBe(true);
    expect(wantsStream(head('POST', '/v1/chat/completions'), json('{"stream":true}'))).toBe(true);
    expect(wantsStream(head('POST', '/v1/responses'), json('{"stream":"true"}'))).toBe(false);
    expect(wantsStream(head('POST', '/v1/embeddings'), json('{"stream":true}'))).toBe(false);
    expect(json('{"stream":')).toBeUndefined();
    expect(json('[1]')).toBeUndefined();
    expect(jsonBody(head('POST', '/v1/x', { 'content-type': 'text/plain' }), Buffer.from('{}'))).toBeUndefined();
  });
});
