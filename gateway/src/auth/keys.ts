import { createHash, randomBytes } from 'node:crypto';

/** Prefix of the secrets the admin API issues (so a leaked one is recognisable in a scan). */
export const KEY_PREFIX = 'sk-rgw-';

/** Keys are stored and looked up only by this hash; the secret itself is never kept. */
export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret: the prefix and 32 random bytes (base64url). */
export function newSecret(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** "sk-ab***cd": enough to tell keys apart in a message or a listing, never enough to use one. */
export function redactKey(secret: string): string {
  if (secret.length <= 8) return '***';
  return `${secret.slice(0, 5)}***${secret.slice(-2)}`;
}

/** The stable project of a key from API_KEYS: each such key is its own project. */
export function staticProjectId(secret: string): string {
  return `proj_${hashKey(secret).slice(0, 24)}`;
}

/** The stable id of a key configured statically (API_KEYS or the YAML file). */
export function staticKeyId(secret: string): string {
  return `key_${hashKey(secret).slice(0, 24)}`;
}

/** Reads the caller's key: `Authorization: Bearer <key>` (what the OpenAI SDK sends) or `x-api-key`. */
export function presentedKey(headers: { authorization?: string; 'x-api-key'?: string | string[] }): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return m ? m[1]!.trim() : auth.trim();
  }
  const x = headers['x-api-key'];
  const key = Array.isArray(x) ? x[0] : x;
  return key?.trim() || undefined;
}
