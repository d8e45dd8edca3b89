/**
 * The shared integration platforms require API keys (global-setup.ts): these are the keys and the
 * header every raw call (fetch, sockets) sends, as the SDK does with its apiKey.
 */
export const TEST_KEY = 'test-key';
export const TEST_KEY_B = 'test-key-b';
export const ADMIN_KEY = 'test-admin-key';

export const authHeaders: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` };

/** fetch with the test key (a header the call sets itself wins). */
export function authFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...authHeaders, ...(init.headers as Record<string, string> | undefined) } });
}
