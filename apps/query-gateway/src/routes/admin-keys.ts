import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { hashSecret, mintApiKey, toApiKey, type KeyStore } from '@cb/auth';
import {
  ApiKey,
  CreateKeyBody,
  CreatedApiKey,
  KeyListQuery,
  KeyPage,
  KeyParams,
  Problem,
  type ApiKeyRecord,
  type Principal,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { principalOf, principalRefOf } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { decodeCursor, encodeCursor } from '../read/cursor';

export interface AdminKeyRouteDeps {
  commands: CommandClient;
  keys: Pick<KeyStore, 'get' | 'list'>;
  /** CB_KEY_PEPPER: secrets are stored as HMAC-SHA256(pepper, secret), else SHA-256. */
  pepper?: string;
  /** How long a create or revoke waits for the key projection to apply it (MIN_SEQ_WAIT_MS). */
  projectionWaitMs: number;
}

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem };
const NO_STORE = 'no-store';

/**
 * API keys: created and revoked through the command service (recorded events: who granted what),
 * read from the keys bucket the key projection writes — every gateway authenticates against it.
 * The root credential manages every tenant's keys; a key with `keys:admin` manages its own
 * tenant's only, and grants no more than it holds (scopes, workflows). Another tenant's key
 * answers exactly like a key that does not exist.
 */
export const adminKeyRoutes: FastifyPluginAsync<AdminKeyRouteDeps> = async (app, deps) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { commands, keys } = deps;

  api.post(
    '/v1/admin/keys',
    {
      config: { scope: 'keys:admin', responseHeaders: { 201: ['Location', 'Cache-Control'] } },
      schema: {
        operationId: 'createApiKey',
        tags: ['keys'],
        summary: 'Create an API key; the response is the only time its secret is shown',
        body: CreateKeyBody,
        response: { 201: CreatedApiKey, ...errors, 409: Problem, 504: Problem },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      refuseIdempotencyKey(req);
      assertMayGrant(principal, req.body);
      if (req.body.expiresAt !== undefined && Date.parse(req.body.expiresAt) <= Date.now()) {
        throw new ApiError('VALIDATION_ERROR', 'expiresAt must be in the future', {
          errors: [{ path: 'body/expiresAt', message: 'must be in the future' }],
        });
      }
      const minted = mintApiKey();
      const { key } = await commands.apiKey(
        {
          command: {
            type: 'CreateApiKey',
            key: { ...req.body, id: minted.id, hash: hashSecret(minted.secret, deps.pepper) },
          },
          principal: principalRefOf(req),
        },
        req.id,
      );
      // Usable by the time the answer arrives (the projection wrote it), unless it lags: the key
      // then starts to work moments later — the secret is shown now or never.
      await waitFor(
        () => keys.get(key.id),
        (stored) => stored !== null,
        deps.projectionWaitMs,
      );
      return reply
        .code(201)
        .header('location', `/v1/admin/keys/${key.id}`)
        .header('cache-control', NO_STORE)
        .send({ ...key, key: minted.key });
    },
  );

  api.get(
    '/v1/admin/keys',
    {
      config: { scope: 'keys:admin' },
      schema: {
        operationId: 'listApiKeys',
        tags: ['keys'],
        summary: 'API keys (never their secrets), ordered by id; revoked ones too',
        querystring: KeyListQuery,
        response: { 200: KeyPage, ...errors },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const tenant = req.query.tenant;
      if (!principal.root && tenant !== undefined && tenant !== principal.tenant) {
        throw forbiddenTenant(principal);
      }
      const scope = principal.root ? tenant : principal.tenant;
      const list = `keys:${principal.root ? 'root' : principal.tenant}:${scope ?? '*'}`;
      const after = decodeCursor(list, req.query.cursor, 'id');
      const limit = req.query.limit ?? 50;
      const all = (await keys.list(scope === undefined ? {} : { tenant: scope })).filter(
        (k) => after === undefined || k.id > after,
      );
      const page = all.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toApiKey),
        ...(all.length > limit && last ? { nextCursor: encodeCursor(list, last.id) } : {}),
      };
    },
  );

  api.get(
    '/v1/admin/keys/:keyId',
    {
      config: { scope: 'keys:admin' },
      schema: {
        operationId: 'getApiKey',
        tags: ['keys'],
        summary: 'One API key (never its secret)',
        params: KeyParams,
        response: { 200: ApiKey, ...errors },
      },
    },
    async (req) => toApiKey(await managed(req, keys, req.params.keyId)),
  );

  api.delete(
    '/v1/admin/keys/:keyId',
    {
      config: { scope: 'keys:admin' },
      schema: {
        operationId: 'revokeApiKey',
        tags: ['keys'],
        summary:
          'Revoke an API key: every gateway refuses it (and its sessions) within 2 s of the answer; repeating is harmless',
        params: KeyParams,
        response: { 204: Type.Null(), ...errors, 504: Problem },
      },
    },
    async (req, reply) => {
      const record = await managed(req, keys, req.params.keyId);
      refuseIdempotencyKey(req);
      if (record.revokedAt === undefined) {
        await commands.apiKey(
          {
            command: { type: 'RevokeApiKey', tenant: record.tenant, keyId: record.id },
            principal: principalRefOf(req),
          },
          req.id,
        );
        const applied = await waitFor(
          () => keys.get(record.id),
          (stored) => stored?.record.revokedAt !== undefined,
          deps.projectionWaitMs,
        );
        if (!applied) {
          throw new ApiError(
            'PROJECTION_LAGGING',
            `the revocation of key ${record.id} is recorded but not in effect yet; send the DELETE again to confirm it`,
            { retryAfterSeconds: 1 },
          );
        }
      }
      return reply.code(204).send(null);
    },
  );
};

/** The key, if the credential manages its tenant; otherwise exactly what a missing key answers. */
async function managed(
  req: FastifyRequest,
  keys: Pick<KeyStore, 'get'>,
  keyId: string,
): Promise<ApiKeyRecord> {
  const principal = principalOf(req);
  const stored = await keys.get(keyId);
  if (stored === null || (!principal.root && stored.record.tenant !== principal.tenant)) {
    throw new ApiError('KEY_NOT_FOUND', `key ${keyId} does not exist`, { keyId });
  }
  return stored.record;
}

/** A tenant's key administrator grants keys of its tenant only, and no more than it holds. */
function assertMayGrant(principal: Principal, body: CreateKeyBody): void {
  if (principal.root) return;
  if (body.tenant !== principal.tenant) throw forbiddenTenant(principal);
  const extra = body.scopes.filter((s) => !principal.scopes.includes(s));
  if (extra.length > 0) {
    throw new ApiError(
      'FORBIDDEN',
      `a key cannot grant scopes it does not hold: ${extra.join(', ')}`,
      { scopes: extra },
    );
  }
  const mine = principal.workflows;
  if (mine !== undefined) {
    const outside = body.workflows?.filter((w) => !mine.includes(w));
    if (body.workflows === undefined || (outside !== undefined && outside.length > 0)) {
      throw new ApiError(
        'FORBIDDEN',
        `this credential sees only the workflows ${mine.join(', ')}: a key it creates must be restricted to those`,
        { workflows: mine },
      );
    }
  }
}

function forbiddenTenant(principal: Principal): ApiError {
  return new ApiError(
    'FORBIDDEN',
    `this credential manages the keys of tenant ${principal.tenant} only`,
    { tenant: principal.tenant },
  );
}

/** A created key's secret exists in one response only: a replay could not show it again. */
function refuseIdempotencyKey(req: FastifyRequest): void {
  if (req.headers['idempotency-key'] !== undefined) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'Idempotency-Key is not supported on API keys (a secret is shown once; a revocation is idempotent by itself)',
      { errors: [{ path: 'headers/idempotency-key', message: 'is not supported here' }] },
    );
  }
}

/** Read until `done` holds or `ms` pass (every 20 ms); whether it held. */
async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (done(await read())) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
