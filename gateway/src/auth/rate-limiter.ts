import { ApiError, type Cache, type Limits, type Principal } from '@rgw/shared';

const WINDOW_MS = 60_000;

interface Scope {
  /** `key` or `project`, for the message. */
  kind: 'key' | 'project';
  id: string;
  limits: Limits;
}

interface Count {
  scope: Scope;
  requests?: number;
  /** Tokens counted in the window, this request's estimate included. */
  tokens?: number;
}

/**
 * Requests and tokens per minute, per key and per project, in fixed one-minute windows aligned to
 * the clock, counted with the cache's atomic counter (Redis when distributed, so every gateway
 * replica shares the count; memory when embedded). A request is admitted while its window has room;
 * tokens are admitted with an estimate and settled with the real count once the model server says it.
 */
export class RateLimiter {
  constructor(private readonly cache: Cache, private readonly now: () => number = Date.now) {}

  /**
   * Counts the request (and `estimate` tokens) against every limit of `principal`; throws the 429
   * when one is exceeded. Resolves to the x-ratelimit-* headers to send (empty when unlimited).
   */
  async admit(principal: Principal, estimate: number): Promise<Record<string, string>> {
    const scopes = scopesOf(principal);
    if (scopes.length === 0) return {};
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    const resetMs = (window + 1) * WINDOW_MS - now;
    const counts = await Promise.all(
      scopes.map(async (scope): Promise<Count> => {
        const [requests, tokens] = await Promise.all([
          scope.limits.rpm ? this.cache.incr(counterKey(scope, 'r', window), 1, WINDOW_MS + 5000) : undefined,
          scope.limits.tpm ? this.cache.incr(counterKey(scope, 't', window), estimate, WINDOW_MS + 5000) : undefined,
        ]);
        return { scope, requests, tokens };
      }),
    );
    const headers = rateHeaders(counts, resetMs);
    for (const { scope, requests, tokens } of counts) {
      if (requests !== undefined && requests > scope.limits.rpm!) throw exceeded(scope, 'requests', scope.limits.rpm!, requests - 1, resetMs, headers);
      // Tokens: admitted while the window had room before this request (its size is only an estimate).
      if (tokens !== undefined && tokens - estimate >= scope.limits.tpm!) {
        void this.cache.incr(counterKey(scope, 't', window), -estimate, WINDOW_MS + 5000).catch(() => {});
        throw exceeded(scope, 'tokens', scope.limits.tpm!, tokens - estimate, resetMs, headers);
      }
    }
    return headers;
  }

  /** Adds `delta` tokens (real count minus the estimate admitted, or a whole count) to the current window. */
  async settle(who: { projectId: string; keyId?: string }, delta: number): Promise<void> {
    if (!delta) return;
    const window = Math.floor(this.now() / WINDOW_MS);
    const scopes: Scope[] = [{ kind: 'project', id: who.projectId, limits: {} }];
    if (who.keyId) scopes.push({ kind: 'key', id: who.keyId, limits: {} });
    await Promise.all(scopes.map((s) => this.cache.incr(counterKey(s, 't', window), delta, WINDOW_MS + 5000)));
  }
}

function scopesOf(p: Principal): Scope[] {
  const scopes: Scope[] = [];
  if (p.keyId && (p.keyLimits?.rpm || p.keyLimits?.tpm)) scopes.push({ kind: 'key', id: p.keyId, limits: p.keyLimits });
  if (p.projectLimits?.rpm || p.projectLimits?.tpm) scopes.push({ kind: 'project', id: p.projectId, limits: p.projectLimits });
  return scopes;
}

function counterKey(scope: Scope, what: 'r' | 't', window: number): string {
  return `rl:${scope.kind}:${scope.id}:${what}:${window}`;
}

/** OpenAI's headers, for the tightest limit of each kind. */
function rateHeaders(counts: Count[], resetMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  const reset = formatDuration(resetMs);
  let requests: [number, number] | undefined;
  let tokens: [number, number] | undefined;
  for (const { scope, requests: r, tokens: t } of counts) {
    if (r !== undefined) {
      const left = Math.max(0, scope.limits.rpm! - r);
      if (!requests || left < requests[1]) requests = [scope.limits.rpm!, left];
    }
    if (t !== undefined) {
      const left = Math.max(0, scope.limits.tpm! - t);
      if (!tokens || left < tokens[1]) tokens = [scope.limits.tpm!, left];
    }
  }
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests[0]);
    headers['x-ratelimit-remaining-requests'] = String(requests[1]);
    headers['x-ratelimit-reset-requests'] = reset;
  }
  if (tokens) {
    headers['x-ratelimit-limit-tokens'] = String(tokens[0]);
    headers['x-ratelimit-remaining-tokens'] = String(tokens[1]);
    headers['x-ratelimit-reset-tokens'] = reset;
  }
  return headers;
}

/** The 429 as OpenAI sends it (type `requests` or `tokens`, code `rate_limit_exceeded`), with retry-after. */
function exceeded(scope: Scope, what: 'requests' | 'tokens', limit: number, used: number, resetMs: number, headers: Record<string, string>): ApiError {
  const unit = what === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  return new ApiError(429, `Rate limit reached for ${unit} of this ${scope.kind === 'key' ? 'API key' : 'project'}: Limit ${limit}, Used ${used}. Please try again in ${formatDuration(resetMs)}.`, {
    type: what,
    code: 'rate_limit_exceeded',
    headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))), 'retry-after-ms': String(Math.max(1, Math.round(resetMs))) },
  });
}

/** OpenAI's reset format: `20ms`, `1s`, `6m0s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.ceil(ms / 1000);
  const m = Math.floor(s / 60);
  return m ? `${m}m${s % 60}s` : `${s}s`;
}
