import { Type } from '@sinclair/typebox';
import { authEnvFields, authSettingsOf } from './auth-env';
import { ConfigError, parseEnv } from './parse-env';

const AuthEnv = Type.Object(authEnvFields);

describe('auth variables', () => {
  it('default to no root key, 1 h sessions, a 15 min cache and 6,000 requests per 60 s', () => {
    expect(authSettingsOf(parseEnv(AuthEnv, {}))).toEqual({
      sessionTtlSeconds: 3600,
      cacheTtlMs: 900_000,
      cacheMaxEntries: 10_000,
      failureDelayMaxMs: 1000,
      defaultRateLimit: { requests: 6000, windowSeconds: 60 },
    });
  });

  it('take a root key of 32+ visible characters and a pepper, and never print either', () => {
    const adminKey = 'k'.repeat(32);
    expect(
      authSettingsOf(parseEnv(AuthEnv, { CB_ADMIN_KEY: adminKey, CB_KEY_PEPPER: 'p'.repeat(16) })),
    ).toMatchObject({ adminKey, pepper: 'p'.repeat(16) });
    let error: unknown;
    try {
      parseEnv(AuthEnv, {
        CB_ADMIN_KEY: 'short-admin-key-value',
        CB_KEY_PEPPER: 'tiny-pepper',
        AUTH_CACHE_TTL_S: '901',
        RATE_LIMIT_WINDOW_S: '3601',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('CB_ADMIN_KEY="***" is invalid');
    expect(message).toContain('CB_KEY_PEPPER="***" is invalid');
    expect(message).toContain('AUTH_CACHE_TTL_S');
    expect(message).toContain('RATE_LIMIT_WINDOW_S');
    expect(message).not.toContain('short-admin-key-value');
    expect(message).not.toContain('tiny-pepper');
    expect(() => parseEnv(AuthEnv, { CB_ADMIN_KEY: `${'k'.repeat(31)} x` })).toThrow(ConfigError);
  });
});
