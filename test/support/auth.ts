import { createHash } from 'node:crypto';
/**
 * The shared integration platforms require API keys (global-setup.ts): these are the keys and the
 * header every raw call (fetch, sockets) sends, as the SDK does with its apiKey.
 */
export const TEST_KEY = 'test-key';
export const TEST_KEY_B = 'test-key-b';
export const ADMIN_KEY = 'test-admin-key';
/** INTERNAL_TOKEN of the shared platforms: lets a test make a call as one of our services would. */
export const TEST_INTERNAL_TOKEN = 'test-internal-token-0123456789';

/** The project of a key from API_KEYS (the gateway derives it the same way). */
export function staticProjectOf(key: string): string {
  return `proj_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

export const authHeaders: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` };

/** fetch with the test key (a header the call sets itself wins). */
export function authFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...authHeaders, ...(init.headers as Record<string, string> | undefined) } });
}
