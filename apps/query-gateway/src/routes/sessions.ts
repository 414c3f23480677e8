import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AuthError, type Authenticator, type AuthSuccess } from '@cb/auth';
import { Problem, Session } from '@cb/schemas';
import { ApiError } from '../api-error';

export interface SessionRouteDeps {
  authenticator: Pick<Authenticator, 'createSession' | 'revokeSession'>;
}

const errors = { 400: Problem, 401: Problem, 403: Problem, 503: Problem };
const NO_STORE = 'no-store';

/**
 * Sessions: short-lived bearer credentials made from an API key (or the root credential), with
 * its tenant and scopes, stored hashed in the sessions bucket (age limit SESSION_TTL_S plus the
 * absolute expiry in each), dead when the key is revoked. The web console uses them.
 */
export const sessionRoutes: FastifyPluginAsync<SessionRouteDeps> = async (app, deps) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/v1/sessions',
    {
      config: { scope: 'authenticated', responseHeaders: { 201: ['Cache-Control'] } },
      schema: {
        operationId: 'createSession',
        tags: ['sessions'],
        summary:
          'Make a session from the API key sent (no body): same tenant and scopes, ends after SESSION_TTL_S or with the key',
        response: { 201: Session, ...errors },
      },
    },
    async (req, reply) => {
      if (req.body !== undefined && req.body !== null) {
        throw new ApiError('VALIDATION_ERROR', 'POST /v1/sessions takes no body', {
          errors: [{ path: 'body', message: 'must be empty' }],
        });
      }
      const made = await deps.authenticator.createSession(authOf(req)).catch((err: unknown) => {
        if (err instanceof AuthError && err.code === 'SESSION_FROM_SESSION') {
          throw new ApiError(
            'FORBIDDEN',
            'a session cannot make a session: send the API key it was made from',
          );
        }
        throw unavailable(err);
      });
      return reply.code(201).header('cache-control', NO_STORE).send(made.session);
    },
  );

  api.get(
    '/v1/sessions/current',
    {
      config: { scope: 'authenticated', responseHeaders: { 200: ['Cache-Control'] } },
      schema: {
        operationId: 'getCurrentSession',
        tags: ['sessions'],
        summary: 'The session sent as the credential: its tenant, scopes and expiry',
        response: { 200: Session, ...errors },
      },
    },
    async (req, reply) => {
      const auth = sessionOf(req);
      const token = bearer(req);
      return reply.header('cache-control', NO_STORE).send({
        session: token,
        expiresAt: auth.expiresAt ?? new Date(0).toISOString(),
        tenant: auth.principal.tenant,
        scopes: [...auth.principal.scopes],
      });
    },
  );

  api.delete(
    '/v1/sessions/current',
    {
      config: { scope: 'authenticated' },
      schema: {
        operationId: 'endCurrentSession',
        tags: ['sessions'],
        summary:
          'End the session sent as the credential: refused at once here, and by every gateway within 2 s',
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      const auth = sessionOf(req);
      await deps.authenticator.revokeSession(auth.principal.sessionId!).catch((err: unknown) => {
        throw unavailable(err);
      });
      return reply.code(204).send(null);
    },
  );
};

function authOf(req: FastifyRequest): AuthSuccess {
  if (req.auth === null) throw new Error(`no authentication on ${req.method} ${req.url}`);
  return req.auth;
}

/** The request's session; an API key or the root credential is not one (400). */
function sessionOf(req: FastifyRequest): AuthSuccess {
  const auth = authOf(req);
  if (auth.principal.sessionId === undefined) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'the credential sent is not a session: /v1/sessions/current describes the session sent as Authorization: Bearer cbs_…',
      { errors: [{ path: 'headers/authorization', message: 'is not a session' }] },
    );
  }
  return auth;
}

function bearer(req: FastifyRequest): string {
  const header = req.headers.authorization ?? '';
  return header.slice(header.indexOf(' ') + 1).trim();
}

function unavailable(err: unknown): unknown {
  if (err instanceof AuthError && err.code === 'UNAVAILABLE') {
    return new ApiError('SERVICE_UNAVAILABLE', 'sessions cannot be stored now; retry shortly', {
      retryAfterSeconds: 1,
    });
  }
  return err;
}
