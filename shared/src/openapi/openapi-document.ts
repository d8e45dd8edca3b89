import type { z } from 'zod';
import { bodySchemaOf, pathParamNames, toOpenApiPath, type AnyRoute } from '../http/route-descriptor.js';
import { errorEnvelopeSchema } from './error-envelope.js';
import { applyExamples, type OperationExamples } from './reference-examples.js';
import { objectProperties, toJsonSchema, type JsonSchema, type SchemaComponents } from './json-schema.js';

/** The routes one service (or the gateway itself) serves, under one tag of the document. */
export interface RouteGroup {
  /** Who serves them: a service of the manifest, or `gateway`. */
  service: string;
  tag: string;
  description: string;
  routes: readonly AnyRoute[];
}

export interface DocumentOptions {
  title: string;
  version: string;
  description: string;
  groups: readonly RouteGroup[];
  /** The schema of one server-sent event, by the operationId of a streaming route. */
  streamEvents?: Readonly<Record<string, z.ZodType>>;
  /** The media type of an answer that is not JSON, by operationId (default `application/octet-stream`). */
  rawMediaTypes?: Readonly<Record<string, string>>;
  /** Request body fields that are ours, not OpenAI's, by operationId: each is marked `x-extension` with its reason. */
  extensionFields?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Request and success body examples, by operationId (OpenAI's, see reference-examples.ts). */
  examples?: Readonly<Record<string, OperationExamples>>;
}

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: SchemaComponents; responses: Record<string, unknown>; securitySchemes: Record<string, unknown> };
} & Record<string, unknown>;

const ERROR_REF = { $ref: '#/components/responses/Error' };

/**
 * The OpenAPI 3.1 document of the given routes, built from the very descriptors that register them:
 * parameters and bodies from the zod schemas requests are validated with (limits and defaults
 * included), answers from the descriptors' response schemas, errors as the one envelope. The output
 * is deterministic (routes in declaration order), so a committed copy can be compared byte for byte.
 */
export function buildOpenApiDocument(opts: DocumentOptions): OpenApiDocument {
  const schemas: SchemaComponents = { Error: toJsonSchema(errorEnvelopeSchema, 'output') };
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  for (const group of opts.groups) {
    for (const route of group.routes) {
      const where = `${route.method.toUpperCase()} ${route.path}`;
      if (!route.operationId || !route.summary) throw new Error(`route ${where} needs an operationId and a summary to be documented`);
      if (operationIds.has(route.operationId)) throw new Error(`operationId ${route.operationId} is used twice (${where})`);
      operationIds.add(route.operationId);
      const path = toOpenApiPath(route.path);
      const item = (paths[path] ??= {});
      if (item[route.method]) throw new Error(`route ${where} is declared twice`);
      item[route.method] = operation(route, group, opts, schemas);
    }
  }
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: { title: opts.title, version: opts.version, description: opts.description, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    servers: [{ url: '/', description: 'This server' }],
    tags: opts.groups.map((g) => ({ name: g.tag, description: g.description, 'x-service': g.service })),
    security: [{ ApiKeyAuth: [] }],
    paths,
    components: {
      schemas,
      responses: {
        Error: { description: 'An error, in the one envelope every endpoint uses.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      securitySchemes: {
        ApiKeyAuth: { type: 'http', scheme: 'bearer', description: 'An API key (`Authorization: Bearer <key>`); not required when the server runs without keys.' },
      },
    },
  };
  return opts.examples ? applyExamples(doc, opts.examples) : doc;
}

function operation(route: AnyRoute, group: RouteGroup, opts: DocumentOptions, schemas: SchemaComponents): Record<string, unknown> {
  const id = route.operationId!;
  const op: Record<string, unknown> = { operationId: id, summary: route.summary, tags: [group.tag], 'x-service': group.service };
  if (route.extension) op['x-extension'] = true;
  const parameters = [...pathParameters(route), ...queryParameters(route)];
  if (parameters.length) op.parameters = parameters;
  const body = bodySchemaOf(route);
  if (body) {
    const schema = markExtensions(toJsonSchema(body, 'input', `${cap(id)}Request`, schemas), opts.extensionFields?.[id]);
    op.requestBody = { required: true, content: route.bodyPolicy === 'multipart' ? { 'multipart/form-data': formMedia(schema) } : { 'application/json': { schema } } };
  } else if (route.bodyPolicy === 'multipart') {
    op.requestBody = { required: true, content: { 'multipart/form-data': { schema: { type: 'object' } } } };
  }
  if (route.bodyLimitBytes) op['x-body-limit-bytes'] = route.bodyLimitBytes;
  op.responses = { [String(successStatus(route))]: success(route, id, opts, schemas), '4XX': ERROR_REF, '5XX': ERROR_REF };
  return op;
}

function pathParameters(route: AnyRoute): Record<string, unknown>[] {
  const names = pathParamNames(route.path);
  if (!names.length) return [];
  const props = new Map(route.params ? objectProperties(route.params).map((p) => [p.name, p.schema]) : []);
  // `*name` takes the rest of the path, slashes included (`org/model`).
  return names.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: props.get(name) ?? { type: 'string' },
    ...(route.path.includes(`*${name}`) ? { 'x-rest-of-path': true } : {}),
  }));
}

function queryParameters(route: AnyRoute): Record<string, unknown>[] {
  if (!route.query) return [];
  return objectProperties(route.query).map((p) => {
    const param: Record<string, unknown> = { name: p.name, in: 'query', required: p.required, schema: p.schema };
    if (typeof p.schema.description === 'string') param.description = p.schema.description;
    // A list may be given as repeated names (`include=a&include=b`), OpenAI's way.
    const many = p.schema.type === 'array' || (Array.isArray(p.schema.anyOf) && p.schema.anyOf.some((s: JsonSchema) => s.type === 'array'));
    if (many) Object.assign(param, { style: 'form', explode: true });
    return param;
  });
}

function successStatus(route: AnyRoute): number {
  return route.status ?? 200;
}

function success(route: AnyRoute, id: string, opts: DocumentOptions, schemas: SchemaComponents): Record<string, unknown> {
  const status = successStatus(route);
  if (status === 204) return { description: 'Done; no body.' };
  const content: Record<string, unknown> = {};
  if (route.response) content['application/json'] = { schema: toJsonSchema(route.response, 'output', `${cap(id)}Response`, schemas) };
  else if (route.mounted === false) content['application/json'] = { schema: { type: 'object', description: "The model server's answer, relayed untouched." } };
  else content[opts.rawMediaTypes?.[id] ?? 'application/octet-stream'] = { schema: { type: 'string', format: 'binary' } };
  const event = opts.streamEvents?.[id];
  if (route.stream && event) {
    content['text/event-stream'] = {
      schema: { type: 'string', description: 'Server-sent events; the `data` of each is one event object (`x-event-schema`).' },
      'x-event-schema': toJsonSchema(event, 'output', `${cap(id)}Event`, schemas),
    };
  }
  return { description: route.stream ? 'The object, or with `stream: true` a stream of server-sent events.' : 'Success.', content };
}

function markExtensions(schema: JsonSchema, fields: Readonly<Record<string, string>> | undefined): JsonSchema {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!fields || !props) return schema;
  for (const [name, reason] of Object.entries(fields)) {
    if (!props[name]) throw new Error(`extension field '${name}' is not a property of the request body`);
    props[name] = { ...props[name], 'x-extension': reason };
  }
  return schema;
}

/** A form's media type: an object field travels as `name[key]=value` fields (OpenAPI's deepObject), as OpenAI's forms send it. */
function formMedia(schema: JsonSchema): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const objects = Object.keys(props).filter((name) => props[name]!.type === 'object');
  if (!objects.length) return { schema };
  return { schema, encoding: Object.fromEntries(objects.map((name) => [name, { style: 'deepObject', explode: true }])) };
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
