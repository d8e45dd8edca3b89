import type { Cache, Config, Limits, Logger, Principal } from '@rgw/shared';
import type { AuthStore, KeyRecord, ProjectRecord } from './auth-store.js';
import { hashKey, staticKeyId, staticProjectId } from './keys.js';

/** Cache key whose counter changes whenever a managed key or project changes (revocation above all). */
const VERSION_KEY = 'auth:version';
/** How often a process asks the shared cache whether keys changed elsewhere: revocation is seen within this. */
const VERSION_CHECK_MS = 1000;
/** Bound on remembered lookups (unknown keys included, so a flood of wrong keys cannot grow memory). */
const MAX_ENTRIES = 10_000;

/**
 * Resolves an API key to its principal. Static keys (API_KEYS, the YAML file) are a map built at
 * start; managed keys (admin API) are read from the database once and then remembered in memory, so
 * the hot path costs one hash and a map lookup. A change made anywhere (a revocation on another
 * gateway replica) bumps a counter in the shared cache, which each process checks at most once a
 * second, then forgets what it remembered.
 */
export class KeyRegistry {
  private readonly staticKeys = new Map<string, Principal>();
  private readonly managed = new Map<string, Principal | null>();
  private version = 0;
  private checkedAt = 0;
  private checking?: Promise<void>;
  private readonly defaults: Limits;

  constructor(
    config: Config,
    private readonly store: AuthStore,
    private readonly cache: Cache,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const defaults = (this.defaults = config.defaultKeyLimits);
    for (const key of config.apiKeys) {
      this.staticKeys.set(hashKey(key), { projectId: staticProjectId(key), keyId: staticKeyId(key), keyLimits: limits(undefined, undefined, defaults) });
    }
    for (const project of config.authProjects) {
      for (const key of project.keys) {
        this.staticKeys.set(hashKey(key.key), {
          projectId: project.id,
          keyId: staticKeyId(key.key),
          allowedModels: key.models,
          keyLimits: limits(key.rpm, key.tpm, defaults),
          projectLimits: limits(project.rpm, project.tpm),
        });
      }
    }
  }

  /** The principal of `secret`, or undefined when no live key has it. */
  async resolve(secret: string): Promise<Principal | undefined> {
    const hash = hashKey(secret);
    const fixed = this.staticKeys.get(hash);
    if (fixed) return fixed;
    if (this.now() - this.checkedAt >= VERSION_CHECK_MS) await (this.checking ??= this.checkVersion().finally(() => (this.checking = undefined)));
    const known = this.managed.get(hash);
    if (known !== undefined) return known ?? undefined;
    const found = await this.store.findActiveKey(hash);
    const principal = found ? managedPrincipal(found.key, found.project, this.defaults) : null;
    if (this.managed.size >= MAX_ENTRIES) this.managed.clear();
    this.managed.set(hash, principal);
    return principal ?? undefined;
  }

  /** A managed key or project changed here: forget at once, and tell the other processes. */
  async changed(): Promise<void> {
    this.managed.clear();
    try {
      this.version = await this.cache.incr(VERSION_KEY, 1, 365 * 24 * 3600_000);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'could not announce an API key change to the other gateways');
    }
  }

  private async checkVersion(): Promise<void> {
    try {
      const version = await this.cache.incr(VERSION_KEY, 0, 365 * 24 * 3600_000);
      if (version !== this.version) {
        this.version = version;
        this.managed.clear();
      }
      this.checkedAt = this.now();
    } catch (err) {
      // The shared cache is away: forget what we remember, so a revocation is not missed for long.
      this.managed.clear();
      this.checkedAt = this.now();
      this.logger.warn({ err: (err as Error).message }, 'API key version check failed');
    }
  }
}

function limits(rpm: number | null | undefined, tpm: number | null | undefined, defaults: Limits = {}): Limits | undefined {
  const out: Limits = {};
  const r = rpm ?? defaults.rpm;
  const t = tpm ?? defaults.tpm;
  if (r) out.rpm = r;
  if (t) out.tpm = t;
  return out.rpm || out.tpm ? out : undefined;
}

function managedPrincipal(key: KeyRecord, project: ProjectRecord, defaults: Limits): Principal {
  const principal: Principal = { projectId: key.project_id, keyId: key.key_id };
  if (key.models) principal.allowedModels = key.models;
  const keyLimits = limits(key.rpm, key.tpm, defaults);
  if (keyLimits) principal.keyLimits = keyLimits;
  const projectLimits = limits(project.rpm, project.tpm);
  if (projectLimits) principal.projectLimits = projectLimits;
  return principal;
}
