import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../logging.js';
import type { RequestContext } from '../request-context.js';
import type { BodyPolicy } from './body-policy.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * A body schema the handler applies itself (e.g. POST /v1/responses, whose manager validates inside
 * the preparation the background runner shares): declared for the documentation, not run twice.
 */
export interface HandlerCheckedBody {
  schema: z.ZodType;
  checkedBy: 'handler';
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type ParsedBody<B> = B extends z.ZodType ? z.output<B> : unknown;

/** What a handler receives: the parsed, typed params, query and body, the request context, and the raw req/res. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  /** The validated body (`json` with a schema), the parsed JSON (`json` without one), else undefined. */
  body: B;
  ctx: RequestContext;
  log: Logger;
  /** This route's body limit: a `multipart` handler enforces it on the stream it reads. */
  bodyLimitBytes: number;
  /** For streaming answers and `multipart` bodies (the stream is untouched); otherwise return the value. */
  req: Request;
  res: Response;
}

/**
 * One route as data: it registers the route (register-routes.ts) and describes it (OpenAPI), so the
 * two cannot drift. Paths use Express syntax: `:name` for a segment, `*name` for the rest of the path.
 */
export interface RouteDescriptor<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | HandlerCheckedBody | undefined = z.ZodType | HandlerCheckedBody | undefined,
> {
  method: HttpMethod;
  path: string;
  summary?: string;
  operationId?: string;
  /** Schema of the path params; required when the path has any. */
  params?: P;
  query?: Q;
  body?: B;
  bodyPolicy: BodyPolicy;
  /** Largest accepted body of this route; default the platform's BODY_LIMIT. */
  bodyLimitBytes?: number;
  /** The success body (documentation; may be loose). */
  response?: z.ZodType;
  /** Success status when the handler returns nothing to send (default 204) or a value (default 200). */
  status?: number;
  /** May answer with server-sent events (`stream: true` in the request). */
  stream?: true;
  /** Ours, not part of OpenAI's API (e.g. Llama Stack's list of responses). */
  extension?: true;
  /**
   * Served outside Express (the gateway's bare inference path): described here, never registered.
   * Its schemas are the ones that path validates with, so documentation and behaviour stay one.
   */
  mounted?: false;
  /**
   * Returns the success body (sent as JSON with `status`), or writes the answer itself through
   * `res` (streams) and returns undefined. Throws ApiErrors for the envelope. Method syntax on
   * purpose: descriptors of different shapes share one RouteDescriptor[] list.
   */
  handler?(input: RouteInput<Parsed<P>, Parsed<Q>, ParsedBody<B>>): unknown;
}

/** Any descriptor, as kept in a service's flat list. */
export type AnyRoute = RouteDescriptor;

/** Declares a route with its handler's input types inferred from its schemas. */
export function defineRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | HandlerCheckedBody | undefined = undefined>(
  route: RouteDescriptor<P, Q, B>,
): AnyRoute {
  return route as AnyRoute;
}

/** The names of a path's params, in order (`/v1/a/:x/b/*y` → `['x', 'y']`). */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/** The OpenAPI form of a path: `/v1/responses/:response_id` → `/v1/responses/{response_id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** The schema a body is validated or documented with, whoever applies it. */
export function bodySchemaOf(route: AnyRoute): z.ZodType | undefined {
  const body = route.body;
  if (!body) return undefined;
  return 'checkedBy' in body ? body.schema : body;
}
