import { Type, type Static } from '@sinclair/typebox';
import { Id, PrincipalRef, Tenant, Timestamp } from './common';

/**
 * What a credential may do: `read` (every GET, SSE included), `tokens:write` (create, fire,
 * patch, delete, bulk-fire), `workflows:write` (define, new version), `keys:admin` (the keys of
 * its own tenant; the root credential: of every tenant), `webhooks:admin` (the webhooks of its
 * own tenant).
 */
export const SCOPES = [
  'read',
  'tokens:write',
  'workflows:write',
  'keys:admin',
  'webhooks:admin',
] as const;
export const Scope = Type.Union(
  SCOPES.map((s) => Type.Literal(s)),
  { description: 'read, tokens:write, workflows:write, keys:admin or webhooks:admin' },
);
export type Scope = Static<typeof Scope>;

/** An API key's id: the `<id>` of `cb_<id>_<secret>`, not secret (listed, audited). */
export const ApiKeyId = Type.String({
  pattern: '^[0-9A-Za-z]{16}$',
  description: '16 base62 characters',
});
export type ApiKeyId = Static<typeof ApiKeyId>;

const Scopes = Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true });
/** The scopes a principal, a session and its record carry (copied from the key). */
const HeldScopes = Type.Array(Scope, { maxItems: SCOPES.length, uniqueItems: true });
const Workflows = Type.Array(Id, {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
  description: 'the only workflows the key sees (they need not exist yet); absent: all',
});

/** A per-key rate limit: at most `requests` per fixed window of `windowSeconds`. */
export const RateLimitSetting = Type.Object(
  {
    requests: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
  },
  { additionalProperties: false },
);
export type RateLimitSetting = Static<typeof RateLimitSetting>;

/**
 * An authenticated caller. The tenant comes from the credential only. `root` marks CB_ADMIN_KEY
 * (and sessions made from it); `sessionId` is set when the credential is a session (the digest
 * its record is stored under).
 */
export const Principal = Type.Object(
  {
    tenant: Tenant,
    keyId: PrincipalRef.properties.keyId,
    scopes: HeldScopes,
    workflows: Type.Optional(Workflows),
    root: Type.Optional(Type.Literal(true)),
    sessionId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  },
  { additionalProperties: false },
);
export type Principal = Static<typeof Principal>;

const KeyName = Type.String({ minLength: 1, maxLength: 128 });

/**
 * The tenant of a new key: a tenant that starts with a letter or digit (tenants starting with
 * `_` are reserved: the gateway uses one to answer for workflows a key may not see).
 */
export const KeyTenant = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,31}$',
  minLength: 1,
  maxLength: 32,
  description: '1-32 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit',
});

/** `POST /v1/admin/keys`. */
export const CreateKeyBody = Type.Object(
  {
    tenant: KeyTenant,
    name: Type.Optional(KeyName),
    scopes: Scopes,
    workflows: Type.Optional(Workflows),
    expiresAt: Type.Optional(Timestamp),
    rateLimit: Type.Optional(RateLimitSetting),
  },
  { additionalProperties: false },
);
export type CreateKeyBody = Static<typeof CreateKeyBody>;

/** An API key as the API shows it: never its secret or hash. */
export const ApiKey = Type.Object(
  {
    id: ApiKeyId,
    tenant: Tenant,
    name: Type.Optional(KeyName),
    scopes: Scopes,
    workflows: Type.Optional(Workflows),
    expiresAt: Type.Optional(Timestamp),
    rateLimit: Type.Optional(RateLimitSetting),
    createdAt: Timestamp,
    createdBy: PrincipalRef,
    revokedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type ApiKey = Static<typeof ApiKey>;

/** The answer to creating a key: the only time the full key (with its secret) is shown. */
export const CreatedApiKey = Type.Object(
  {
    ...ApiKey.properties,
    key: Type.String({
      pattern: '^cb_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}$',
      description: 'the bearer credential `cb_<id>_<secret>`; shown once',
    }),
  },
  { additionalProperties: false },
);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

/**
 * Keys bucket, key `<id>`: the key with the hash of its secret (HMAC-SHA256 with CB_KEY_PEPPER,
 * else SHA-256; lowercase hex). Revoked keys keep their record with `revokedAt`.
 */
export const ApiKeyRecord = Type.Object(
  { ...ApiKey.properties, hash: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
  { additionalProperties: false },
);
export type ApiKeyRecord = Static<typeof ApiKeyRecord>;

/** `POST /v1/sessions`, `GET /v1/sessions/current`. */
export const Session = Type.Object(
  {
    session: Type.String({
      pattern: '^cbs_[0-9A-Za-z]{32}$',
      description: 'the bearer credential `cbs_<secret>`',
    }),
    expiresAt: Timestamp,
    tenant: Tenant,
    scopes: HeldScopes,
  },
  { additionalProperties: false },
);
export type Session = Static<typeof Session>;

/**
 * Sessions bucket, key: the SHA-256 hex of the session token. Same tenant, scopes and workflows
 * as its key; `rootTag` ties a root session to the CB_ADMIN_KEY that made it (a changed admin
 * key ends them).
 */
export const SessionRecord = Type.Object(
  {
    tenant: Tenant,
    keyId: PrincipalRef.properties.keyId,
    scopes: HeldScopes,
    workflows: Type.Optional(Workflows),
    expiresAt: Timestamp,
    createdAt: Timestamp,
    root: Type.Optional(Type.Literal(true)),
    rootTag: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$' })),
  },
  { additionalProperties: false },
);
export type SessionRecord = Static<typeof SessionRecord>;

/** Rate-limit bucket, key `<keyId>.<windowStart>`: the quota gateways have taken in that window. */
export const RateLimitCounter = Type.Object(
  { used: Type.Integer({ minimum: 0 }), limit: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type RateLimitCounter = Static<typeof RateLimitCounter>;
