import { createRequire } from 'node:module';
import { z } from 'zod';
import type { stringify as Stringify } from 'yaml';
import { defineRoute, type AnyRoute } from '@rgw/shared';

// The YAML writer loads on the first request for the YAML document, not with the gateway.
const requireCjs = createRequire(import.meta.url);
const stringify = (value: unknown, options: { aliasDuplicateObjects: boolean }): string => (requireCjs('yaml') as { stringify: typeof Stringify }).stringify(value, options);

/** Llama Stack's RouteInfo: one method of one path, and who implements it (here: the owning service). */
export interface RouteInfo {
  route: string;
  method: string;
  provider_types: string[];
}

export interface Introspection {
  version: string;
  routes(): RouteInfo[];
  document(): unknown;
}

// The YAML form of each document, made once (the document is built once per process).
const yamlOf = new WeakMap<object, string>();
const toYaml = (doc: object) => {
  let text = yamlOf.get(doc);
  if (text === undefined) yamlOf.set(doc, (text = stringify(doc, { aliasDuplicateObjects: false })));
  return text;
};

const routeInfo = z.object({ route: z.string(), method: z.string(), provider_types: z.array(z.string()) });

/**
 * GET /v1/version and GET /v1/inspect/routes in Llama Stack's shapes (its client's `inspect.version()`
 * and `routes.list()`), and the API description itself. `at` is undefined when only described.
 */
export function introspectionRouteDescriptors(at?: Introspection): AnyRoute[] {
  const use = () => {
    if (!at) throw new Error('introspection routes built for documentation only');
    return at;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/version',
      operationId: 'getVersion',
      summary: "This server's version (Llama Stack's VersionInfo).",
      bodyPolicy: 'none',
      response: z.object({ version: z.string() }),
      extension: true,
      handler: () => ({ version: use().version }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/inspect/routes',
      operationId: 'listRoutes',
      summary: "Every public route with its method and the service that owns it (Llama Stack's ListRoutesResponse).",
      // Llama Stack's levels: every route here is a stable v1 one; nothing is deprecated.
      query: z.object({ api_filter: z.enum(['v1', 'v1alpha', 'v1beta', 'deprecated']).optional() }),
      bodyPolicy: 'none',
      response: z.object({ data: z.array(routeInfo) }),
      extension: true,
      handler: ({ query }) => ({ data: query.api_filter === undefined || query.api_filter === 'v1' ? use().routes() : [] }),
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiJson',
      summary: 'This API description (OpenAPI 3.1, JSON).',
      bodyPolicy: 'none',
      response: z.looseObject({ openapi: z.string() }),
      extension: true,
      handler: () => use().document(),
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.yaml',
      operationId: 'getOpenApiYaml',
      summary: 'This API description (OpenAPI 3.1, YAML).',
      bodyPolicy: 'none',
      extension: true,
      handler: ({ res }) => {
        res.type('application/yaml').send(toYaml(use().document() as object));
      },
    }),
  ];
}
