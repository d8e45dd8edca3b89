import { describe, expect, it } from 'vitest';
import { signPrincipal, stripInternalHeaders, verifyPrincipal } from './principal-headers.js';

describe('principal headers', () => {
  const principal = { projectId: 'proj_a', keyId: 'key_1' };

  it('round-trips a principal signed with the same secret', () => {
    expect(verifyPrincipal(signPrincipal(principal, 's3cret'), 's3cret')).toEqual(principal);
  });

  it('refuses another secret, a tampered principal, a stale signature and missing headers', () => {
    const headers = signPrincipal(principal, 's3cret');
    expect(verifyPrincipal(headers, 'other')).toBeUndefined();
    const forged = { ...headers, 'x-rgw-principal': Buffer.from(JSON.stringify({ projectId: 'proj_b' })).toString('base64url') };
    expect(verifyPrincipal(forged, 's3cret')).toBeUndefined();
    expect(verifyPrincipal(signPrincipal(principal, 's3cret', Date.now() - 3_600_000), 's3cret')).toBeUndefined();
    expect(verifyPrincipal({}, 's3cret')).toBeUndefined();
  });

  it('still refuses a signature it verified before when the secret, the principal or the time no longer match', () => {
    const at = Date.now();
    const headers = signPrincipal(principal, 's3cret', at);
    expect(verifyPrincipal(headers, 's3cret', at)).toEqual(principal);
    expect(verifyPrincipal(headers, 's3cret', at + 1000)).toEqual(principal);
    expect(verifyPrincipal(headers, 'other', at)).toBeUndefined();
    const forged = { ...headers, 'x-rgw-principal': Buffer.from(JSON.stringify({ projectId: 'proj_b' })).toString('base64url') };
    expect(verifyPrincipal(forged, 's3cret', at)).toBeUndefined();
    expect(verifyPrincipal({ ...headers, 'x-rgw-signed-at': String(at + 1) }, 's3cret', at)).toBeUndefined();
    expect(verifyPrincipal(headers, 's3cret', at + 3_600_000)).toBeUndefined();
  });

  it('strips what a client sent', () => {
    const headers: Record<string, string> = { 'x-rgw-principal': 'x', 'x-rgw-signature': 'y', authorization: 'Bearer k' };
    stripInternalHeaders(headers);
    expect(headers).toEqual({ authorization: 'Bearer k' });
  });
});
