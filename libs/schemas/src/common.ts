import { Type, type IntegerOptions, type Static, type TInteger } from '@sinclair/typebox';
import { SUBJECT_SAFE_ID_PATTERN, TENANT_PATTERN } from '@cb/subjects';

/** Workflow, place, transition and token ids: they become subject tokens and KV key parts. */
export const Id = Type.String({
  pattern: SUBJECT_SAFE_ID_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: '1-64 characters of A-Z, a-z, 0-9, `_` or `-` (no dots, spaces or wildcards)',
});
export type Id = Static<typeof Id>;

/** RFC 3339 timestamp in UTC, as produced by `Date.prototype.toISOString`. */
export const Timestamp = Type.String({ format: 'date-time' });
export type Timestamp = Static<typeof Timestamp>;

/** A free-form JSON object (token `data` and `metadata`). */
export const JsonObject = Type.Record(Type.String(), Type.Unknown(), {
  description: 'any JSON object',
});
export type JsonObject = Static<typeof JsonObject>;

/** A tenant: every key belongs to one; the tenant is part of every subject and read-model key. */
export const Tenant = Type.String({
  pattern: TENANT_PATTERN,
  minLength: 1,
  maxLength: 32,
  description: '1-32 characters of a-z, 0-9, `_` or `-`',
});
export type Tenant = Static<typeof Tenant>;

/**
 * Who a command was authenticated as: the tenant it acts in and the key (or `root`). The gateway
 * sets it from the credential, never from the request; every event records it.
 */
export const PrincipalRef = Type.Object(
  {
    tenant: Tenant,
    keyId: Type.String({
      pattern: '^(root|system|[0-9A-Za-z]{16})$',
      description:
        'an API key id, `root` for CB_ADMIN_KEY, or `system` for what the platform does by itself (timers)',
    }),
  },
  { additionalProperties: false },
);
export type PrincipalRef = Static<typeof PrincipalRef>;

/** Who triggered a command: a user, service or job name. Recorded in the event. */
export const Actor = Type.String({ minLength: 1, maxLength: 256 });
export type Actor = Static<typeof Actor>;

/**
 * An integer with finite bounds, by default 0 to Number.MAX_SAFE_INTEGER: every integer of a
 * path, query string or header is one (a test walks the routes), so `1e400` or `Infinity`
 * never reaches a handler as a number.
 */
export function SafeInteger(options: IntegerOptions = {}): TInteger {
  return Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options });
}

/** A stream sequence: the version of a token or definition event. */
export const Seq = SafeInteger();
export type Seq = Static<typeof Seq>;

/** Client-chosen idempotency key (the `Idempotency-Key` header). */
export const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7e]+$',
});
export type IdempotencyKey = Static<typeof IdempotencyKey>;

/** Nesting limit for `data` and `metadata`: deep documents are rejected before any recursion. */
export const MAX_JSON_DEPTH = 32;
