import { z } from 'zod';
import type { Cache } from '../cache/cache.js';
import type { ProviderConfig } from '../config.js';
import { modelNotFound, NotFoundError, ServiceUnavailableError } from '../errors.js';
import { nowSeconds } from '../ids.js';
import type { Logger } from '../logging.js';
import { upstreamJson } from './upstream-http.js';

/** The OpenAI Model object, as we list it. */
export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** Where a public model id goes: which provider, and the model name that provider knows it by. */
export interface ModelRoute {
  provider: ProviderConfig;
  upstreamModel: string;
}

interface ProviderListing {
  ok: boolean;
  error?: string;
  models: { id: string; created: number; owned_by: string }[];
}

interface Snapshot {
  models: Model[];
  routes: Map<string, ModelRoute>;
  /** Each provider's own model ids, for `provider/model` addressing. */
  offered: Map<string, Set<string>>;
  failed: { id: string; error: string }[];
  expiresAt: number;
}

// Tolerant: only what we use; model servers disagree on the rest.
const upstreamModelsSchema = z.object({
  data: z.array(z.looseObject({ id: z.string(), created: z.number().nullish(), owned_by: z.string().nullish() })),
});

const LIST_TIMEOUT_MS = 5000;
const FAILED_LISTING_TTL_MS = 5000;
const LOCAL_MEMO_MS = 5000;

/**
 * Merges the models of every provider. Addressing rule: a plain id goes to the first provider (in
 * config order) that offers it; `<provider id>/<model>` always goes to that provider. When two
 * providers offer the same id, both qualified forms are listed besides the plain one.
 */
export class ModelCatalog {
  private snapshot?: Snapshot;
  private refreshing?: Promise<Snapshot>;

  constructor(
    private readonly providers: ProviderConfig[],
    private readonly cache: Cache,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  get hasProviders(): boolean {
    return this.providers.length > 0;
  }

  async list(): Promise<Model[]> {
    return (await this.current()).models;
  }

  async retrieve(id: string): Promise<Model> {
    const snap = await this.current();
    const listed = snap.models.find((m) => m.id === id);
    if (listed) return listed;
    // Qualified ids are only retrievable for models the provider lists: routing to an unlisting
    // provider is allowed, but claiming such a model exists would be a guess.
    const route = this.routeIn(snap, id);
    if (route && snap.offered.get(route.provider.id)?.has(route.upstreamModel)) {
      const plain = snap.models.find((m) => m.id === route.upstreamModel);
      return { id, object: 'model', created: plain?.created ?? 0, owned_by: route.provider.id };
    }
    throw this.notFound(snap, id);
  }

  /** Resolves the provider of a model, or throws 404 (unknown) / 503 (no provider configured). */
  async resolve(model: string): Promise<ModelRoute> {
    if (!this.hasProviders) throw noProviderError();
    const snap = await this.current();
    const route = this.routeIn(snap, model);
    if (route) return route;
    throw this.notFound(snap, model);
  }

  /** Status of each provider's last listing, for /health. */
  async providerStatus(): Promise<Record<string, { status: 'OK' | 'Error'; error?: string }>> {
    const snap = await this.current();
    const out: Record<string, { status: 'OK' | 'Error'; error?: string }> = {};
    for (const p of this.providers) {
      const failure = snap.failed.find((f) => f.id === p.id);
      out[p.id] = failure ? { status: 'Error', error: failure.error } : { status: 'OK' };
    }
    return out;
  }

  private routeIn(snap: Snapshot, model: string): ModelRoute | undefined {
    const direct = snap.routes.get(model);
    if (direct) return direct;
    const slash = model.indexOf('/');
    if (slash <= 0) return undefined;
    const provider = this.providers.find((p) => p.id === model.slice(0, slash));
    if (!provider) return undefined;
    const upstreamModel = model.slice(slash + 1);
    // A provider that could not list its models still takes explicitly addressed requests.
    const listingFailed = snap.failed.some((f) => f.id === provider.id);
    return listingFailed || snap.offered.get(provider.id)?.has(upstreamModel) ? { provider, upstreamModel } : undefined;
  }

  /** Always a 404: a provider being down must not turn a typo into a 5xx; the message names the gap. */
  private notFound(snap: Snapshot, model: string) {
    const err = modelNotFound(model);
    if (snap.failed.length === 0) return err;
    const down = snap.failed.map((f) => `'${f.id}'`).join(', ');
    return new NotFoundError(`${err.message} (provider(s) ${down} could not be asked for their models)`, 'model', 'model_not_found');
  }

  private async current(): Promise<Snapshot> {
    if (this.snapshot && this.snapshot.expiresAt > Date.now()) return this.snapshot;
    // One refresh at a time: concurrent requests share it instead of stampeding the providers.
    this.refreshing ??= this.build().finally(() => (this.refreshing = undefined));
    this.snapshot = await this.refreshing;
    return this.snapshot;
  }

  private async build(): Promise<Snapshot> {
    const listings = await Promise.all(this.providers.map((p) => this.listing(p)));
    const models: Model[] = [];
    const routes = new Map<string, ModelRoute>();
    const owners = new Map<string, number>();
    const failed: { id: string; error: string }[] = [];
    this.providers.forEach((provider, i) => {
      const listing = listings[i]!;
      if (!listing.ok) failed.push({ id: provider.id, error: listing.error ?? 'unavailable' });
      for (const m of listing.models) {
        owners.set(m.id, (owners.get(m.id) ?? 0) + 1);
        if (!routes.has(m.id)) {
          routes.set(m.id, { provider, upstreamModel: m.id });
          models.push({ id: m.id, object: 'model', created: m.created, owned_by: m.owned_by });
        }
      }
    });
    // Ids offered by several providers are also listed qualified, so each copy can be addressed.
    this.providers.forEach((provider, i) => {
      for (const m of listings[i]!.models) {
        if ((owners.get(m.id) ?? 0) < 2) continue;
        const id = `${provider.id}/${m.id}`;
        routes.set(id, { provider, upstreamModel: m.id });
        models.push({ id, object: 'model', created: m.created, owned_by: m.owned_by });
      }
    });
    const offered = new Map(this.providers.map((p, i) => [p.id, new Set(listings[i]!.models.map((m) => m.id))]));
    return { models, routes, offered, failed, expiresAt: Date.now() + Math.min(this.ttlMs, LOCAL_MEMO_MS) };
  }

  /** One provider's models: from the shared cache, else asked and cached (failures briefly). */
  private async listing(provider: ProviderConfig): Promise<ProviderListing> {
    const key = `models:${provider.id}`;
    const cached = await this.cache.get<ProviderListing>(key).catch(() => undefined);
    if (cached) return cached;
    const staticModels = provider.models.map((id) => ({ id, created: 0, owned_by: provider.id }));
    let listing: ProviderListing = { ok: true, models: staticModels };
    if (provider.listModels) {
      try {
        const reply = upstreamModelsSchema.parse(await upstreamJson(provider, { method: 'GET', path: '/models', timeoutMs: LIST_TIMEOUT_MS }));
        const seen = new Set(staticModels.map((m) => m.id));
        const fetched = reply.data
          .filter((m) => !seen.has(m.id))
          .map((m) => ({ id: m.id, created: m.created ?? nowSeconds(), owned_by: m.owned_by ?? provider.id }));
        listing = { ok: true, models: [...staticModels, ...fetched] };
      } catch (err) {
        this.log.warn({ provider: provider.id, err: (err as Error).message }, 'listing models failed');
        listing = { ok: false, error: (err as Error).message, models: staticModels };
      }
    }
    await this.cache.set(key, listing, listing.ok ? this.ttlMs : FAILED_LISTING_TTL_MS).catch(() => {});
    return listing;
  }
}

export function noProviderError(): ServiceUnavailableError {
  return new ServiceUnavailableError(
    'No model provider is configured. Set BACKEND_BASE_URL (and BACKEND_API_KEY) or list providers in the file named by CONFIG_FILE.',
    'no_provider_configured',
    // Retrying cannot help until someone configures a provider; the SDK honours this header.
    { 'x-should-retry': 'false' },
  );
}
