import type { FastifyRequest } from 'fastify';
import type { AuthSuccess } from '@cb/auth';
import type { Principal, PrincipalRef, Scope } from '@cb/schemas';
import { ApiError } from '../api-error';

/**
 * What a route needs of its caller: a scope, any valid credential (`authenticated`: the session
 * routes), or nothing (`public`: health, readiness, metrics, the documentation).
 */
export type RouteScope = Scope | 'authenticated' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every `/v1` route declares one (checked when it is registered). */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** Who the request was authenticated as; null only on public routes. */
    principal: Principal | null;
    /** The whole authentication result (the session routes need its expiry and rate limit). */
    auth: AuthSuccess | null;
  }
}

/** The request's principal; a route that runs without one is a bug, never an anonymous read. */
export function principalOf(req: FastifyRequest): Principal {
  const principal = req.principal;
  if (principal === null) throw new Error(`no principal on ${req.method} ${req.url}`);
  return principal;
}

/** The tenant every read and write of the request acts in: the credential's, never the request's. */
export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenant;
}

/** What a command and its event record of the principal. */
export function principalRefOf(req: FastifyRequest): PrincipalRef {
  const { tenant, keyId } = principalOf(req);
  return { tenant, keyId };
}

/**
 * The workflows the credential is restricted to, or undefined for every workflow of its tenant.
 * Workflows outside the set answer exactly like workflows that do not exist.
 */
export function visibleWorkflows(req: FastifyRequest): ReadonlySet<string> | undefined {
  const workflows = principalOf(req).workflows;
  return workflows === undefined ? undefined : new Set(workflows);
}

export function maySee(req: FastifyRequest, workflowId: string): boolean {
  const workflows = principalOf(req).workflows;
  return workflows === undefined || workflows.includes(workflowId);
}

/** A key restricted to some workflows may define only those (whether or not they exist). */
export function assertMayDefine(req: FastifyRequest, workflowId: string): void {
  const workflows = principalOf(req).workflows;
  if (workflows !== undefined && !workflows.includes(workflowId)) {
    throw new ApiError(
      'FORBIDDEN',
      `this credential may only define the workflows ${workflows.join(', ')}`,
      { workflows },
    );
  }
}
