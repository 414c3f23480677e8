import { Type } from '@sinclair/typebox';
import { CommonEnv } from './common-env';
import { loadConfig } from './load-config';
import { ConfigError, parseEnv } from './parse-env';

describe('parseEnv', () => {
  it('applies defaults and converts numbers and booleans', () => {
    const schema = Type.Object({
      PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535 }),
      DEBUG: Type.Boolean({ default: false }),
      NAME: Type.Optional(Type.String()),
    });
    expect(parseEnv(schema, {})).toEqual({ PORT: 3000, DEBUG: false });
    expect(parseEnv(schema, { PORT: '8080', DEBUG: 'true', NAME: 'x' })).toEqual({
      PORT: 8080,
      DEBUG: true,
      NAME: 'x',
    });
    expect(Object.isFrozen(parseEnv(schema, {}))).toBe(true);
  });

  it('names every bad variable and what it expects', () => {
    const schema = Type.Object({
      PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535 }),
      RATIO: Type.Number({ default: 1 }),
      REQUIRED: Type.String({ description: 'a non-empty name' }),
    });
    let error: unknown;
    try {
      parseEnv(schema, { PORT: 'abc', RATIO: '99999999999x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^PORT="abc" is invalid: expected integer >= 1 and <= 65535/);
    expect(issues[1]).toMatch(/^RATIO=/);
    expect(issues[2]).toBe('REQUIRED is required: a non-empty name');
  });

  it('rejects out-of-range numbers and never echoes secrets', () => {
    expect(() => parseEnv(CommonEnv, { CB_PARTITIONS: '0' })).toThrow(
      /CB_PARTITIONS="0" is invalid/,
    );
    expect(() => parseEnv(CommonEnv, { NATS_URL: 'http://x:1' })).toThrow(
      /NATS_URL="http:\/\/x:1"/,
    );
    const schema = Type.Object({ NATS_PASSWORD: Type.String({ minLength: 5 }) });
    expect(() => parseEnv(schema, { NATS_PASSWORD: 'abc' })).toThrow(/NATS_PASSWORD="\*\*\*"/);
  });

  it('accepts a comma-separated NATS_URL and checks credential combinations', () => {
    expect(loadConfig(CommonEnv, { NATS_URL: 'nats://a:4222, nats://b:4222' }).NATS_URL).toBe(
      'nats://a:4222, nats://b:4222',
    );
    expect(() => loadConfig(CommonEnv, { NATS_USER: 'u' })).toThrow(/set together/);
    expect(() => loadConfig(CommonEnv, { NATS_TOKEN: 't', NATS_CREDS: '/x' })).toThrow(/only one/);
  });
});
