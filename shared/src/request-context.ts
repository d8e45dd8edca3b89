/**
 * Who is calling: the project (and key) a request acts for. Filled in by authentication (API keys);
 * absent while the platform runs open.
 */
export interface Principal {
  projectId: string;
  keyId?: string;
}

/** What travels with every request: through handlers, managers, service-to-service calls and jobs. */
export interface RequestContext {
  requestId: string;
  principal?: Principal;
}
