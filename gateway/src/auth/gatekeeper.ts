import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ApiError,
  DEFAULT_PROJECT_ID,
  USAGE_TOPIC,
  keysConfigured,
  migrate,
  stripInternalHeaders,
  checkModelAccess,
  defineUsageTopic,
  verifyPrincipal,
  type Platform,
  type Principal,
  type UsageEvent,
} from '@rgw/shared';
import { AUTH_MIGRATIONS } from './auth-migrations.js';
import { AuthStore } from './auth-store.js';
import { KeyRegistry } from './key-registry.js';
import { presentedKey, redactKey } from './keys.js';
import { RateLimiter } from './rate-limiter.js';
import { UsageRecorder } from './usage-recorder.js';
import type { TokenCount } from './usage-tap.js';

/** Who is calling, and the token estimate admitted for the request (settled once the real count is known). */
export interface Caller {
  principal: Principal;
  estimate: number;
}

const OPEN: Principal = Object.freeze({ projectId: DEFAULT_PROJECT_ID }) as Principal;

/**
 * The gateway's door: who a request acts for (an API key, a principal signed by one of our own
 * services, or the open default when no key is configured), whether it may use a model, its rate
 * limits, and the usage it leaves behind.
 */
export class Gatekeeper {
  /** Whether callers must present a key. */
  readonly keysRequired: boolean;
  readonly store: AuthStore;
  readonly registry: KeyRegistry;
  readonly limiter: RateLimiter;
  readonly usage: UsageRecorder;
  private readonly internalToken?: string;
  private readonly adminHash?: Buffer;

  private constructor(private readonly platform: Platform) {
    const { config } = platform;
    this.keysRequired = keysConfigured(config);
    this.internalToken = config.internalToken;
    this.adminHash = config.adminApiKey ? sha256(config.adminApiKey) : undefined;
    this.store = new AuthStore(platform.database);
    this.registry = new KeyRegistry(config, this.store, platform.cache, platform.logger);
    this.limiter = new RateLimiter(platform.cache);
    this.usage = new UsageRecorder(this.store, platform.logger);
  }

  static async create(platform: Platform): Promise<Gatekeeper> {
    await migrate(platform.database, 'auth', AUTH_MIGRATIONS);
    const gate = new Gatekeeper(platform);
    // Usage of calls other processes made to model servers (the responses service): recorded here,
    // and settled against the tokens-per-minute windows.
    defineUsageTopic(platform.queue);
    return gate;
  }

  /** Starts consuming the usage events (after the gateway listens, like the services' workers). */
  async start(): Promise<void> {
    await this.platform.queue.consume<UsageEvent>(USAGE_TOPIC, async (event) => {
      this.usage.add({ ...event });
      await this.limiter.settle(event, event.input_tokens + event.output_tokens).catch(() => {});
    });
  }

  async close(): Promise<void> {
    await this.usage.close();
  }

  /**
   * The principal of a request. A principal signed with the internal token (a call from one of our
   * services) is taken as is, with its other internal headers; from anyone else every `x-rgw-` header
   * is removed before anything else reads the request, so a client can never pass one on. Throws the 401 when a key is required and missing or wrong.
   */
  async authenticate(req: IncomingMessage): Promise<{ principal: Principal; internal: boolean }> {
    const internal = this.internalToken ? verifyPrincipal(req.headers, this.internalToken) : undefined;
    // Our own services' internal headers (e.g. x-rgw-idempotent-append) pass with their signed call.
    if (internal) return { principal: internal, internal: true };
    stripInternalHeaders(req.headers);
    if (!this.keysRequired) return { principal: OPEN, internal: false };
    const key = presentedKey(req.headers);
    if (!key) throw missingKey();
    const principal = await this.registry.resolve(key);
    if (!principal) throw wrongKey(key);
    return { principal, internal: false };
  }

  /** The admin API takes the admin key only; a project's key is refused with a 403. */
  async authenticateAdmin(req: IncomingMessage): Promise<void> {
    stripInternalHeaders(req.headers);
    const key = presentedKey(req.headers);
    if (!key) throw missingKey();
    if (this.adminHash && timingSafeEqual(sha256(key), this.adminHash)) return;
    if (await this.registry.resolve(key)) {
      throw new ApiError(403, 'This API key may not use the admin API: it takes the ADMIN_API_KEY.', { code: 'insufficient_permissions' });
    }
    if (!this.adminHash) throw new ApiError(403, 'The admin API is disabled: set ADMIN_API_KEY to use it.', { code: 'admin_api_disabled' });
    throw wrongKey(key);
  }

  /** Admits a request against its rate limits; resolves to the x-ratelimit-* headers of the reply. */
  async admit(caller: Caller): Promise<Record<string, string>> {
    try {
      return await this.limiter.admit(caller.principal, caller.estimate);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // The counters (Redis) are away: serving unlimited for a while beats refusing every caller.
      this.platform.logger.warn({ err: (err as Error).message }, 'rate limit counters unavailable; request admitted');
      return {};
    }
  }

  /** 403 when the key may not use `model` (plain or provider-qualified id). */
  checkModel(principal: Principal, model: string, upstreamModel?: string): void {
    checkModelAccess(principal, model, upstreamModel);
  }

  /** Records one inference call's usage and settles its token estimate. */
  record(caller: Caller, model: string, count: TokenCount | undefined): void {
    const { principal, estimate } = caller;
    const tokens = count ?? { input_tokens: estimate, output_tokens: 0 };
    this.usage.add({ projectId: principal.projectId, keyId: principal.keyId, model, requests: 1, ...tokens, at: Date.now() });
    if (principal.keyLimits?.tpm || principal.projectLimits?.tpm) {
      void this.limiter.settle(principal, tokens.input_tokens + tokens.output_tokens - estimate).catch(() => {});
    }
  }
}

/** A request's token estimate before its body is read: about 4 bytes a token. */
export function estimateTokens(req: IncomingMessage): number {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > 0 ? Math.ceil(length / 4) : 0;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function missingKey(): ApiError {
  return new ApiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    { type: 'invalid_request_error', code: 'invalid_api_key' },
  );
}

function wrongKey(key: string): ApiError {
  return new ApiError(401, `Incorrect API key provided: ${redactKey(key)}.`, { type: 'invalid_request_error', code: 'invalid_api_key' });
}
