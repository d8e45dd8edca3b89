import { projectOf, type ClientCallOptions, type Principal, type RequestContext } from '@rgw/shared';

/**
 * Whom a piece of work acts for, as it travels from the route through preparation, context assembly,
 * a background run and the conversation append outbox to every call to another service: the request
 * id (for tracing) and the principal (the project the callee scopes its answer to).
 */
export type Caller = Pick<ClientCallOptions, 'requestId' | 'principal'>;

/** The caller of a request, from its context. */
export function callerOf(ctx: RequestContext): Caller {
  return { requestId: ctx.requestId, principal: ctx.principal };
}

/** The project the caller acts for (the open default without a principal). */
export function callerProject(caller: Caller): string {
  return projectOf(caller);
}

/**
 * The principal a stored response's later work signs as: the one it was created with, else (rows from
 * before principals were stored) its row's project.
 */
export function storedPrincipal(principal: Principal | undefined, project: string): Principal {
  return principal ?? { projectId: project };
}
