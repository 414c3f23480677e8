/**
 * @cb/auth — credentials, sessions, revocation and rate limits on NATS KV. No HTTP here: the
 * gateway's plugin calls it from one onRequest hook:
 *
 * ```ts
 * const buckets = await ensureAuthBuckets(js, naming, { sessionTtlSeconds, replicas }, logger);
 * const auth = new Authenticator({ buckets, naming, logger, adminKey, pepper, sessionTtlSeconds, registry });
 * await auth.start();                       // the keys and sessions watches
 * const slowdown = new FailureSlowdown();
 *
 * // onRequest, for every /v1 route:
 * const result = await auth.authenticate(request.headers.authorization); // throws AuthError UNAVAILABLE → 503
 * if (!result.ok) {                         // 401 UNAUTHENTICATED, WWW-Authenticate: Bearer
 *   await sleep(slowdown.failed(request.ip)); // result.reason only for metrics and logs
 * }
 * ```
 *
 * Formats: API keys `cb_<16 base62 id>_<32 base62 secret>`, stored as HMAC-SHA256(CB_KEY_PEPPER,
 * secret) or SHA-256 hex; sessions `cbs_<32 base62>`, stored under SHA-256(token); CB_ADMIN_KEY
 * compared in constant time. Principals are frozen and shared: never mutate one.
 */
export {
  Authenticator,
  MAX_CACHE_TTL_MS,
  type AuthenticatorOptions,
  type AuthFailureReason,
  type AuthResult,
  type AuthSuccess,
} from './authenticator';
export {
  ensureAuthBuckets,
  MAX_WINDOW_SECONDS,
  type AuthBuckets,
  type AuthBucketSettings,
} from './buckets';
export {
  API_KEY_PREFIX,
  SESSION_PREFIX,
  KEY_ID_LENGTH,
  SECRET_LENGTH,
  MAX_AUTHORIZATION_LENGTH,
  ROOT_KEY_MIN_LENGTH,
  ROOT_KEY_MAX_LENGTH,
  mintApiKey,
  mintSessionToken,
  hashSecret,
  sessionDigest,
  digestsEqual,
  parseAuthorization,
  parseCredential,
  isRootKeyShape,
  type MintedApiKey,
  type ParsedCredential,
} from './credentials';
export { AuthError, type AuthErrorCode } from './errors';
export { FailureSlowdown, addressKey, type FailureSlowdownOptions } from './failure-slowdown';
export { KeyStore, toApiKey, type StoredKey } from './key-store';
export { SessionStore } from './session-store';
export { RootCredential, ROOT_PRINCIPAL } from './root-credential';
