import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthError,
  rateLimitHeaders,
  type Authenticator,
  type FailureSlowdown,
  type RateLimiter,
} from '@cb/auth';
import type { Principal } from '@cb/schemas';
import type { App } from '../app-type';
import { ApiError } from '../api-error';
import { sendProblem } from '../http/problem';
import type { RouteScope } from './principal';

/**
 * Where a key restricted to some workflows is sent for any other workflow: a tenant no key can
 * belong to (tenants of keys start with a letter or digit) and nothing is ever defined in, so the
 * route answers exactly what it answers for a workflow that does not exist.
 */
export const HIDDEN_TENANT = '_hidden';

export interface AuthDeps {
  authenticator: Pick<Authenticator, 'authenticate' | 'createSession' | 'revokeSession'>;
  limiter: Pick<RateLimiter, 'take'>;
  slowdown: Pick<FailureSlowdown, 'failed'>;
}

/** `WWW-Authenticate` of every 401 (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="circuit-breaker"';

const UNAUTHENTICATED_DETAIL =
  'a valid credential is required: send Authorization: Bearer <API key or session>';

/** `/graphql` authenticates like the API; its scopes are checked per field (graphql/context.ts). */
export function isGraphqlPath(path: string): boolean {
  return path === '/graphql';
}

/** The API: every route under it needs a credential, also one that does not exist (401, not 404). */
export function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * Authentication, rate limiting and scopes, for every `/v1` request before its body is read:
 *
 * 1. the credential (`Authorization: Bearer …`) is resolved by libs/auth; anything but a valid,
 *    live credential is 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer`, the same answer
 *    whatever the reason, after the slow-down of the address's recent failures;
 * 2. the key's rate limit (not the root credential's): 429 RATE_LIMITED with `Retry-After` when
 *    used up; every answer to a key carries `RateLimit-Limit`/`-Remaining`/`-Reset`;
 * 3. the route's scope: 403 FORBIDDEN naming it;
 * 4. a key restricted to some workflows sees the others as missing (see HIDDEN_TENANT).
 *
 * Routes declare their scope in `config.scope`; registering a `/v1` route without one fails, so
 * no route is public by omission.
 */
export function installAuth(app: App, deps: AuthDeps): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('auth', null);
  app.addHook('onRoute', (route) => {
    if (isApiPath(route.url) && route.config?.scope === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no config.scope`);
    }
  });
  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req.url);
    const graphql = isGraphqlPath(path);
    const scope: RouteScope | undefined = graphql
      ? 'authenticated'
      : req.routeOptions.config?.scope;
    if (scope === 'public' || !(graphql || isApiPath(path))) return;
    // A GraphQL subscription socket sends its credential in `connection_init` (subscriptions.ts).
    if (graphql && String(req.headers.upgrade).toLowerCase() === 'websocket') return;
    const deny = graphql ? sendGraphqlError : sendProblem;
    const result = await deps.authenticator.authenticate(authorizationOf(req)).catch(outage);
    if (!result.ok) {
      req.log.info({ reason: result.reason }, 'authentication failed');
      const delay = deps.slowdown.failed(req.ip);
      if (delay > 0) await sleep(delay);
      reply.header('www-authenticate', BEARER_CHALLENGE);
      return deny(req, reply, new ApiError('UNAUTHENTICATED', UNAUTHENTICATED_DETAIL));
    }
    const principal = result.principal;
    req.auth = result;
    req.principal = principal;
    if (!principal.root) {
      const decision = await deps.limiter.take(principal.keyId, result.rateLimit).catch(outage);
      reply.headers(rateLimitHeaders(decision));
      if (!decision.allowed) {
        return deny(
          req,
          reply,
          new ApiError(
            'RATE_LIMITED',
            `this key may make ${decision.limit} requests per window; retry in ${decision.resetSeconds} s`,
            { retryAfterSeconds: decision.resetSeconds, limit: decision.limit },
          ),
        );
      }
    }
    // No route (a 404 or 405 to come): a valid credential is all it takes to learn that.
    if (scope === undefined || scope === 'authenticated') return;
    if (!principal.scopes.includes(scope)) return forbidden(req, reply, principal, scope);
    const workflowId = (req.params as { workflowId?: unknown } | undefined)?.workflowId;
    if (
      principal.workflows !== undefined &&
      typeof workflowId === 'string' &&
      !principal.workflows.includes(workflowId)
    ) {
      req.principal = Object.freeze({ ...principal, tenant: HIDDEN_TENANT });
    }
    return undefined;
  });
}

/**
 * A refusal of `/graphql` before any operation ran, as GraphQL clients read errors: `errors`
 * with `extensions.code` (and the problem's members), the problem's HTTP status and headers.
 */
function sendGraphqlError(req: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const retry = error.details?.retryAfterSeconds;
  if (typeof retry === 'number') reply.header('retry-after', String(retry));
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send({
      data: null,
      errors: [
        {
          message: error.message,
          extensions: { ...error.details, code: error.code, requestId: req.id },
        },
      ],
    });
}

function forbidden(
  req: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  scope: string,
): FastifyReply {
  const held = principal.scopes.length > 0 ? principal.scopes.join(', ') : 'none';
  return sendProblem(
    req,
    reply,
    new ApiError(
      'FORBIDDEN',
      `this operation needs the scope ${scope}; the credential has ${held}`,
      { scope },
    ),
  );
}

/** NATS could not answer whether the credential is valid: 503, never a 401 nor a pass. */
function outage(err: unknown): never {
  if (err instanceof AuthError && err.code === 'UNAVAILABLE') {
    throw new ApiError('SERVICE_UNAVAILABLE', 'credentials cannot be checked now; retry shortly', {
      retryAfterSeconds: 1,
    });
  }
  throw err;
}

/** The URL without its query string (no copy when there is none). */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

const AUTHORIZATION = 'authorization';

/**
 * The Authorization header, or every one when there are several (Node keeps only the first of
 * them; a proxy might use another): more than one is never a credential. Only names of the
 * right length are lower-cased: this runs for every request, over every header it carries.
 */
function authorizationOf(req: FastifyRequest): string | string[] | undefined {
  const raw = req.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === AUTHORIZATION.length && name.toLowerCase() === AUTHORIZATION) {
      values.push(raw[i + 1]!);
    }
  }
  return values.length > 1 ? values : req.headers.authorization;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
