import { describe, expect, it } from 'vitest';
import { ApiError, upstreamError } from './errors.js';
import { toApiError } from './http/error-middleware.js';

describe('upstreamError', () => {
  it('keeps the status, message, type and code of an OpenAI-style error and marks it as upstream', () => {
    const e = upstreamError('vllm', 400, JSON.stringify({ error: { message: 'bad prompt', type: 'invalid_request_error', param: 'messages', code: 'x' } }));
    expect(e.status).toBe(400);
    expect(e.toBody().error).toEqual({ message: "upstream provider 'vllm': bad prompt", type: 'invalid_request_error', param: 'messages', code: 'x' });
    expect(e.headers['x-error-source']).toBe('upstream');
  });

  it('understands the other shapes servers use, and plain text', () => {
    expect(upstreamError('o', 404, '{"error":"model not found"}').message).toContain('model not found');
    expect(upstreamError('o', 422, '{"detail":"field required"}').message).toContain('field required');
    const text = upstreamError('o', 500, 'Internal Server Error');
    expect(text.message).toContain('Internal Server Error');
    expect(text.type).toBe('upstream_error');
  });
});

describe('toApiError', () => {
  it('maps body-parser failures to the client errors they are', () => {
    expect(toApiError({ type: 'entity.parse.failed', message: 'Unexpected token' }).status).toBe(400);
    expect(toApiError({ type: 'entity.too.large', limit: 10 }).status).toBe(413);
  });

  it('passes ApiErrors through and hides unknown errors behind a 500 without their text', () => {
    const known = new ApiError(409, 'conflict');
    expect(toApiError(known)).toBe(known);
    const unknown = toApiError(new Error('secret stack detail'));
    expect(unknown.status).toBe(500);
    expect(unknown.message).not.toContain('secret');
  });
});
