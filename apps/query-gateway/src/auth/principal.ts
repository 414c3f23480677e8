import type { FastifyRequest } from 'fastify';
import type { PrincipalRef } from '@cb/schemas';
import { DEFAULT_TENANT } from '@cb/subjects';

/**
 * Who a request was authenticated as. Set before any handler runs; every read and write acts in
 * its tenant only (the tenant comes from the credential, never from the request).
 */
export interface RequestPrincipal {
  readonly tenant: string;
  readonly keyId: string;
  readonly scopes: readonly string[];
  /** The only workflows the key may see (absent: every workflow of its tenant). */
  readonly workflows?: readonly string[];
  readonly root?: true;
  readonly sessionId?: string;
}

/** The root credential's principal: every scope, in the default tenant. */
export const ROOT_PRINCIPAL: RequestPrincipal = Object.freeze({
  tenant: DEFAULT_TENANT,
  keyId: 'root',
  scopes: Object.freeze(['read', 'tokens:write', 'workflows:write', 'keys:admin']),
  root: true,
});

declare module 'fastify' {
  interface FastifyRequest {
    principal: RequestPrincipal | null;
  }
}

/** The request's principal; a route that runs without one is a bug, never an anonymous read. */
export function principalOf(req: FastifyRequest): RequestPrincipal {
  const principal = req.principal;
  if (principal === null) throw new Error(`no principal on ${req.method} ${req.url}`);
  return principal;
}

export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenant;
}

/** What a command and its event record of the principal. */
export function principalRefOf(req: FastifyRequest): PrincipalRef {
  const { tenant, keyId } = principalOf(req);
  return { tenant, keyId };
}
