import { ApiError } from '../errors.js';
import { truncate } from '../http/safe-json.js';
import type { Principal } from '../request-context.js';

/**
 * 403 when the caller's key may not use `model` (its plain id, or the model name a provider-qualified
 * id resolves to). One rule for every path that names a model: the gateway's inference routes and
 * the responses service, which reads its own bodies.
 */
export function checkModelAccess(principal: Principal | undefined, model: string, upstreamModel?: string): void {
  const allowed = principal?.allowedModels;
  if (!allowed || allowed.includes(model) || (upstreamModel !== undefined && allowed.includes(upstreamModel))) return;
  throw new ApiError(403, `This API key does not have access to model '${truncate(model, 256)}'.`, { type: 'invalid_request_error', param: 'model', code: 'model_not_allowed' });
}
