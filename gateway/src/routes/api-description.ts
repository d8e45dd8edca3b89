import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { conversationRouteDocs } from '@rgw/conversations';
import { fileRouteDocs } from '@rgw/files';
import { promptRouteDocs } from '@rgw/prompts';
import { responsesRouteDocs } from '@rgw/responses';
import { vectorStoreRouteDocs } from '@rgw/vector-stores';
import { EXTENSION_FIELDS, OPENAI_EXAMPLES, buildOpenApiDocument, defineRoute, documentationOnly, toOpenApiPath, SERVICE_MANIFEST, STREAM_EVENTS, type AnyRoute, type OpenApiDocument, type RouteGroup } from '@rgw/shared';
import { inferenceRouteDescriptors } from './inference-routes.js';
import { introspectionRouteDescriptors, type Introspection, type RouteInfo } from './introspection-routes.js';
import { modelsRouteDescriptors } from './models-routes.js';


type ApiServiceName = Extract<(typeof SERVICE_MANIFEST)[number], { role: 'api' }>['name'];

/**
 * Each api service's routes as data, built without the service (whose managers they never call):
 * the gateway imports every package in both run modes, so it describes services it only proxies
 * exactly as those describe themselves. Keyed by the manifest's names: a new service is a type error here.
 */
const SERVICE_ROUTE_DOCS: Record<ApiServiceName, { tag: string; description: string; routes: () => AnyRoute[] }> = {
  responses: { tag: 'Responses', description: "OpenAI's Responses API: stateful model responses, streamed or in the background.", routes: responsesRouteDocs },
  conversations: { tag: 'Conversations', description: "OpenAI's Conversations API: stored items that responses continue.", routes: conversationRouteDocs },
  prompts: { tag: 'Prompts', description: "Llama Stack's Prompts API (an extension): versioned prompt templates.", routes: promptRouteDocs },
  files: { tag: 'Files', description: "OpenAI's Files and Uploads APIs.", routes: fileRouteDocs },
  'vector-stores': { tag: 'Vector stores', description: "OpenAI's Vector Stores API, and Llama Stack's vector-io (an extension).", routes: vectorStoreRouteDocs },
};

const healthBody = z.looseObject({ status: z.enum(['OK', 'Degraded', 'Error']), dependencies: z.record(z.string(), z.unknown()) });

/** The gateway's own routes served outside the descriptor routers (health is a plain Express router). */
const healthRouteDocs: AnyRoute[] = [
  defineRoute({ method: 'get', path: '/v1/health', operationId: 'health', summary: 'Health of this process, its platform parts, services and providers (503 when a part it uses is down).', bodyPolicy: 'none', response: healthBody, extension: true, mounted: false }),
];

/** This release, as `GET /v1/version` and the document's info give it. */
export const API_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every public route, grouped by the service that owns it (the gateway's own first). */
export function apiRouteGroups(): RouteGroup[] {
  const gateway: RouteGroup[] = [
    { service: 'gateway', tag: 'Models', description: 'The models of every configured provider.', routes: modelsRouteDescriptors(documentationOnly('the model catalog')) },
    { service: 'gateway', tag: 'Inference', description: 'Chat completions and embeddings, routed by model to its provider and relayed.', routes: inferenceRouteDescriptors },
  ];
  const services = SERVICE_MANIFEST.filter((s) => s.role === 'api').map((s): RouteGroup => {
    const docs = SERVICE_ROUTE_DOCS[s.name as ApiServiceName];
    return { service: s.name, tag: docs.tag, description: docs.description, routes: docs.routes() };
  });
  const inspect: RouteGroup = { service: 'gateway', tag: 'Inspect', description: 'What this server is and serves: health, version, routes and this description.', routes: [...healthRouteDocs, ...introspectionRouteDescriptors()] };
  return [...gateway, ...services, inspect];
}

let cached: OpenApiDocument | undefined;

/** The OpenAPI document of the whole platform: the same in both run modes, built once. */
export function apiDocument(): OpenApiDocument {
  return (cached ??= buildOpenApiDocument({
    title: 'Responses Gateway API',
    version: API_VERSION,
    description:
      "A self-hosted implementation of OpenAI's platform APIs (and some of Llama Stack's). Operations and request fields marked `x-extension` are ours, not part of OpenAI's API. Generated from the schemas requests are validated with.",
    groups: apiRouteGroups(),
    streamEvents: STREAM_EVENTS,
    rawMediaTypes: { getOpenApiYaml: 'application/yaml' },
    extensionFields: EXTENSION_FIELDS,
    examples: OPENAI_EXAMPLES,
  }));
}

let routeList: RouteInfo[] | undefined;

/** Every public route as Llama Stack lists them: one entry per path and method, with its owning service. */
export function routeInfos(): RouteInfo[] {
  return (routeList ??= apiRouteGroups().flatMap((g) =>
    g.routes.map((r) => ({ route: toOpenApiPath(r.path), method: r.method.toUpperCase(), provider_types: [g.service] })),
  ));
}

/** What the gateway's introspection routes serve. */
export const introspection: Introspection = { version: API_VERSION, routes: routeInfos, document: apiDocument };

/** The document as committed in docs/openapi.json: two-space JSON and a final newline. */
export function apiDocumentText(): string {
  return JSON.stringify(apiDocument(), null, 2) + '\n';
}
