import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import type { Logger } from '../logging.js';
import { requestContextOf } from './service-app.js';
import { checkMultipart, readJsonBody } from './body-policy.js';
import { jsonObject } from './json-body.js';
import { MAX_ID_LENGTH, MAX_QUERY_VALUE_LENGTH, checkUrlValues } from './route-params.js';
import { pathParamNames, type AnyRoute } from './route-descriptor.js';
import { truncate } from './safe-json.js';
import { validate } from './validate.js';

export interface RouterOptions {
  /** Default body limit of `json` and `multipart` routes (the platform's BODY_LIMIT). */
  bodyLimitBytes: number;
}

/**
 * An Express router serving `routes`. Per request, in this order (cheapest first, nothing read
 * before the URL is known good): path params (bounded, then the route's schema), query (bounded,
 * then its schema), the body by the route's policy, then the handler. Every failure is thrown to
 * the error middleware as the one envelope.
 */
export function routerFor(routes: readonly AnyRoute[], opts: RouterOptions): Router {
  const router = Router();
  const seen = new Set<string>();
  for (const route of routes) {
    if (route.mounted === false) continue;
    checkRoute(route, seen);
    router[route.method](route.path, (req: Request, res: Response) => runRoute(route, req, res, opts));
  }
  return router;
}

/** Mistakes in a descriptor are found at startup, not by the first request. */
function checkRoute(route: AnyRoute, seen: Set<string>): void {
  const key = `${route.method.toUpperCase()} ${route.path}`;
  if (seen.has(key)) throw new Error(`route ${key} is declared twice`);
  seen.add(key);
  if (!route.handler) throw new Error(`route ${key} has no handler`);
  if (pathParamNames(route.path).length && !route.params) throw new Error(`route ${key} has path params but no params schema`);
  // A multipart form is read by its handler: its schema (checkedBy 'handler') only describes the fields.
  const describedForm = route.bodyPolicy === 'multipart' && !!route.body && 'checkedBy' in route.body;
  if (route.body && route.bodyPolicy !== 'json' && !describedForm) throw new Error(`route ${key} declares a body schema but its body policy is '${route.bodyPolicy}'`);
}

async function runRoute(route: AnyRoute, req: Request, res: Response, opts: RouterOptions): Promise<void> {
  const params = route.params ? parseParams(route.params, flattenParams(req.params)) : undefined;
  const query = route.query ? parseUrlPart(route.query, req.query, MAX_QUERY_VALUE_LENGTH) : undefined;
  const bodyLimitBytes = route.bodyLimitBytes ?? opts.bodyLimitBytes;
  const body = await readBodyOf(route, req, bodyLimitBytes);
  const value = await route.handler!({ params, query, body, ctx: requestContextOf(res), log: res.locals.log as Logger, bodyLimitBytes, req, res });
  if (res.headersSent || res.writableEnded) return;
  if (value === undefined) res.status(route.status ?? 204).end();
  else writeJson(req, res, route.status ?? 200, value);
}

/**
 * A handler's JSON reply, as Express's `res.json` writes it (same headers and bytes) but without its
 * per-reply work (charset and content-type parsing, mime lookups, freshness checks): a visible share
 * of a small request's CPU. An app that computes ETags still goes through Express for them.
 */
function writeJson(req: Request, res: Response, status: number, value: unknown): void {
  if (req.app?.get('etag fn')) {
    res.status(status).json(value);
    return;
  }
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

/** Path params, each named in its error with the value it had (cut short), as OpenAI answers `abc` for an id. */
function parseParams(schema: z.ZodType, raw: Record<string, string>): unknown {
  checkUrlValues(raw, null, MAX_ID_LENGTH * 4);
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'path');
  throw new InvalidRequestError(`Invalid '${name}': '${truncate(raw[name] ?? '', 64)}'. ${issue.message}`, name, 'invalid_value');
}

function parseUrlPart(schema: z.ZodType, raw: unknown, maxLength: number): unknown {
  checkUrlValues(raw, null, maxLength);
  return validate(schema, raw);
}

/** Express 5 gives a `*rest` param as its segments: the handler sees the path text. */
function flattenParams(params: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? v.join('/') : v;
  return out;
}

async function readBodyOf(route: AnyRoute, req: Request, limitBytes: number): Promise<unknown> {
  switch (route.bodyPolicy) {
    case 'none':
      return undefined;
    case 'multipart':
      checkMultipart(req, limitBytes);
      return undefined;
    case 'json': {
      // Service bodies reach a store: NUL is refused in both databases alike.
      const json = await readJsonBody(req, { limitBytes, rejectNul: true });
      const body = route.body;
      if (!body || 'checkedBy' in body) return json;
      return validate(body, jsonObject(json));
    }
  }
}
