/**
 * Stands in for a service's manager when its route descriptors are built only to be described (the
 * gateway documents every service, also those it proxies and never creates). Handlers are never
 * run then; one that is would fail loudly here rather than act on a half-made service.
 */
export function documentationOnly<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      if (prop === 'then') return undefined;
      throw new Error(`${what} was built for documentation only: '${String(prop)}' cannot be used`);
    },
  });
}
