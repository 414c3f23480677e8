import { Type, type Static } from '@sinclair/typebox';

/** Variables of authentication and rate limiting, read by the gateway (see libs/auth). */
export const authEnvFields = {
  CB_ADMIN_KEY: Type.Optional(
    Type.String({
      minLength: 32,
      maxLength: 256,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'the root credential: 32 to 256 visible ASCII characters (no spaces); unset: stored keys only',
    }),
  ),
  CB_KEY_PEPPER: Type.Optional(
    Type.String({
      minLength: 16,
      maxLength: 256,
      description:
        'server-side secret keying the HMAC-SHA256 of API key secrets (16 to 256 characters; the same on every gateway)',
    }),
  ),
  SESSION_TTL_S: Type.Integer({
    default: 3600,
    minimum: 1,
    maximum: 86_400,
    description: 'lifetime of a new session in seconds (1 to 86400)',
  }),
  AUTH_CACHE_TTL_S: Type.Integer({
    default: 900,
    minimum: 1,
    maximum: 900,
    description: 'how long a validated credential is served from memory (1 to 900 s)',
  }),
  AUTH_CACHE_MAX_ENTRIES: Type.Integer({
    default: 10_000,
    minimum: 1,
    maximum: 1_000_000,
    description: 'validated keys, and sessions, kept in memory at most each (1 to 1000000)',
  }),
  AUTH_FAILURE_DELAY_MAX_MS: Type.Integer({
    default: 1000,
    minimum: 0,
    maximum: 10_000,
    description:
      'longest delay of a refused credential from an address that keeps failing (0 to 10000 ms)',
  }),
  RATE_LIMIT_REQUESTS: Type.Integer({
    default: 6000,
    minimum: 1,
    maximum: 1_000_000_000,
    description: 'requests per window of a key without a limit of its own (1 to 1000000000)',
  }),
  RATE_LIMIT_WINDOW_S: Type.Integer({
    default: 60,
    minimum: 1,
    maximum: 3600,
    description: 'the fixed window of that default limit in seconds (1 to 3600)',
  }),
};

export const AuthEnv = Type.Object(authEnvFields);
export type AuthEnv = Static<typeof AuthEnv>;

/** Authenticator, slow-down and rate-limiter settings from the auth variables. */
export function authSettingsOf(config: AuthEnv) {
  return {
    ...(config.CB_ADMIN_KEY !== undefined ? { adminKey: config.CB_ADMIN_KEY } : {}),
    ...(config.CB_KEY_PEPPER !== undefined ? { pepper: config.CB_KEY_PEPPER } : {}),
    sessionTtlSeconds: config.SESSION_TTL_S,
    cacheTtlMs: config.AUTH_CACHE_TTL_S * 1000,
    cacheMaxEntries: config.AUTH_CACHE_MAX_ENTRIES,
    failureDelayMaxMs: config.AUTH_FAILURE_DELAY_MAX_MS,
    defaultRateLimit: {
      requests: config.RATE_LIMIT_REQUESTS,
      windowSeconds: config.RATE_LIMIT_WINDOW_S,
    },
  };
}
