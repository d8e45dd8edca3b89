/** Per-key or per-project limits; unset fields are unlimited. */
export interface Limits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (input + output) per minute. */
  tpm?: number;
}

/**
 * Who is calling: the project (and key) a request acts for, decided by the gateway from the API key.
 * While the platform runs open (no key configured) every caller is the default project.
 */
export interface Principal {
  projectId: string;
  /** The API key's id (never its secret); absent for the open default and internal calls. */
  keyId?: string;
  /** Models this key may use; undefined = every model. */
  allowedModels?: readonly string[];
  keyLimits?: Limits;
  projectLimits?: Limits;
}

/** The project of every stored object when no API key is configured. */
export const DEFAULT_PROJECT_ID = 'proj_default';

/** What travels with every request: through handlers, managers, service-to-service calls and jobs. */
export interface RequestContext {
  requestId: string;
  principal?: Principal;
}

/** The project a request acts for: its principal's, else the open default. */
export function projectOf(ctx: { principal?: Principal } | undefined): string {
  return ctx?.principal?.projectId ?? DEFAULT_PROJECT_ID;
}
