import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, PrincipalRef, Scope } from '@cb/schemas';
import { ApiError } from '../api-error';
import { HIDDEN_TENANT } from '../auth/plugin';
import type { GraphqlDeps } from './deps';

/**
 * What every resolver of one request works with: the principal the gateway's authentication
 * (auth/plugin.ts, the same as for `/v1`) resolved, the request id commands carry, the
 * gateway's read layer and command client, and per-request memos (a token's events are read
 * once however many fields need them).
 */
export interface GraphqlContext {
  principal: Principal;
  requestId: string;
  deps: GraphqlDeps;
  log: FastifyRequest['log'];
  /** Per request: token events by `<workflowId>/<tokenId>` (history, transitionHistory). */
  memo: Map<string, Promise<unknown>>;
}

/** Mercurius' `context` option: the request's principal (authentication already ran). */
export function contextOf(deps: GraphqlDeps) {
  return (req: FastifyRequest, _reply: FastifyReply): GraphqlContext => {
    const principal = req.principal;
    // The auth hook answers 401 before any handler runs; no principal here is a bug.
    if (principal === null) throw new Error(`no principal on ${req.method} ${req.url}`);
    return { principal, requestId: req.id, deps, log: req.log, memo: new Map() };
  };
}

/** The field needs `scope`: FORBIDDEN naming it, as REST answers. */
export function need(ctx: GraphqlContext, scope: Scope): void {
  const { scopes } = ctx.principal;
  if (scopes.includes(scope)) return;
  const held = scopes.length > 0 ? scopes.join(', ') : 'none';
  throw new ApiError(
    'FORBIDDEN',
    `this operation needs the scope ${scope}; the credential has ${held}`,
    {
      scope,
    },
  );
}

/** Whether the credential may see the workflow (a restricted key sees only its own). */
export function maySee(ctx: GraphqlContext, workflowId: string): boolean {
  const { workflows } = ctx.principal;
  return workflows === undefined || workflows.includes(workflowId);
}

/**
 * The tenant reads and commands about `workflowId` act in: the credential's, or for a workflow
 * a restricted key may not see the hidden tenant, so the answer is that of a missing workflow
 * (as REST does, auth/plugin.ts).
 */
export function tenantFor(ctx: GraphqlContext, workflowId: string): string {
  return maySee(ctx, workflowId) ? ctx.principal.tenant : HIDDEN_TENANT;
}

export function visibleOf(ctx: GraphqlContext): ReadonlySet<string> | undefined {
  const { workflows } = ctx.principal;
  return workflows === undefined ? undefined : new Set(workflows);
}

/** The principal a command about `workflowId` records (its tenant as tenantFor says). */
export function principalRefFor(ctx: GraphqlContext, workflowId: string): PrincipalRef {
  return { tenant: tenantFor(ctx, workflowId), keyId: ctx.principal.keyId };
}
