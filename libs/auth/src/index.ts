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
 *   … reply 401
 * }
 * if (!result.principal.root) {             // the root credential is not limited
 *   const d = await limiter.take(result.principal.keyId, result.rateLimit); // AuthError UNAVAILABLE → 503
 *   reply.headers(rateLimitHeaders(d));     // RateLimit-*, and Retry-After when refused
 *   if (!d.allowed) … 429 RATE_LIMITED
 * }
 * // POST /v1/admin/keys: const { id, secret, key } = mintApiKey(); the key event carries
 * //   hashSecret(secret, pepper), never the secret; the key projection: new KeyStore(kv, naming).put(record)
 * // POST /v1/sessions: auth.createSession(result) (AuthError SESSION_FROM_SESSION for a session)
 * // DELETE /v1/sessions/current: auth.revokeSession(result.principal.sessionId)
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
  ensureKeysBucket,
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
  randomBase62,
  sessionDigest,
  digestsEqual,
  parseAuthorization,
  parseCredential,
  isRootKeyShape,
  type MintedApiKey,
  type ParsedCredential,
} from './credentials';
export { AuthError, unavailableOnOutage, type AuthErrorCode } from './errors';
export { FailureSlowdown, addressKey, type FailureSlowdownOptions } from './failure-slowdown';
export { KeyStore, toApiKey, type StoredKey } from './key-store';
export { SessionStore } from './session-store';
export { RootCredential, ROOT_PRINCIPAL } from './root-credential';
export {
  RateLimiter,
  rateLimitHeaders,
  type RateDecision,
  type RateLimiterOptions,
} from './rate-limiter';
