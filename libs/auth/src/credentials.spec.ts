import { createHash, createHmac } from 'node:crypto';
import {
  digestsEqual,
  hashSecret,
  mintApiKey,
  mintSessionToken,
  parseAuthorization,
  parseCredential,
  randomBase62,
  sessionDigest,
} from './credentials';
import { ROOT_PRINCIPAL, RootCredential } from './root-credential';

describe('credential formats', () => {
  it('mints keys as cb_<16 base62>_<32 base62> from crypto.randomBytes, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { id, secret, key } = mintApiKey();
      expect(key).toMatch(/^cb_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}$/);
      expect(key).toBe(`cb_${id}_${secret}`);
      seen.add(id);
      seen.add(secret);
    }
    expect(seen.size).toBe(4000);
    expect(mintSessionToken()).toMatch(/^cbs_[0-9A-Za-z]{32}$/);
  });

  it('draws base62 without modulo bias (every character about equally often)', () => {
    const counts = new Map<string, number>();
    const text = randomBase62(62 * 2000);
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 2000 expected per character; a biased draw (byte % 62) gives the first 8 ~25 % more.
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });

  it('parses the Authorization header strictly before any lookup', () => {
    const key = mintApiKey().key;
    expect(parseAuthorization(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(parseAuthorization('')).toEqual({ ok: false, reason: 'missing' });
    expect(parseAuthorization(`Bearer ${key}`)).toEqual({ ok: true, credential: key });
    expect(parseAuthorization(`bearer  ${key} `)).toEqual({ ok: true, credential: key });
    for (const bad of [
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${key} extra`,
      `Bearer\t${key}`,
      `Bearer ${'x'.repeat(10_240)}`,
      'Bearer clé-non-ascii-😀-000000000000000000000000000',
      `Token ${key}`,
    ]) {
      expect(parseAuthorization(bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(parseAuthorization([`Bearer ${key}`, `Bearer ${key}`])).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('tells keys, sessions and possible root credentials apart by shape alone', () => {
    const { id, secret, key } = mintApiKey();
    expect(parseCredential(key)).toEqual({ kind: 'key', id, secret });
    const session = mintSessionToken();
    expect(parseCredential(session)).toEqual({ kind: 'session', token: session });
    const root = 'r'.repeat(40);
    expect(parseCredential(root)).toEqual({ kind: 'other', credential: root });
    for (const bad of [
      `cb_${id}_${secret}x`,
      `cb_${id}x_${secret}`,
      `cb_${id}_${secret.slice(1)}`,
      `cb_${id}-${secret}`,
      `cb_${id.slice(1)}__${secret}`,
      `${session}0`,
      'cbs_short',
      'short-and-not-a-root-key',
      'x'.repeat(257),
    ]) {
      expect(parseCredential(bad)).toBeNull();
    }
  });

  it('hashes secrets with HMAC-SHA256 and the pepper, else SHA-256, in lowercase hex', () => {
    const secret = mintApiKey().secret;
    expect(hashSecret(secret)).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hashSecret(secret, 'pepper-0123456789')).toBe(
      createHmac('sha256', 'pepper-0123456789').update(secret).digest('hex'),
    );
    expect(hashSecret(secret, 'pepper-0123456789')).not.toBe(hashSecret(secret));
    expect(sessionDigest('cbs_x')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compares digests in constant time and never equal across lengths or empty', () => {
    const a = hashSecret('a');
    expect(digestsEqual(a, a)).toBe(true);
    expect(digestsEqual(a, hashSecret('b'))).toBe(false);
    expect(digestsEqual(a, a.slice(0, 62))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});

describe('root credential', () => {
  const adminKey = 'admin-key-0123456789-0123456789-xyz';

  it('matches only the configured key, whatever the presented length', () => {
    const root = new RootCredential(adminKey);
    expect(root.matches(adminKey)).toBe(true);
    expect(root.matches(`${adminKey}x`)).toBe(false);
    expect(root.matches(adminKey.slice(0, -1))).toBe(false);
    expect(root.matches('')).toBe(false);
    expect(root.matches('x'.repeat(10_000))).toBe(false);
  });

  it('refuses a short or non-ASCII admin key', () => {
    expect(() => new RootCredential('too-short')).toThrow(RangeError);
    expect(() => new RootCredential(`${'x'.repeat(31)} `)).toThrow(RangeError);
    expect(() => new RootCredential('é'.repeat(40))).toThrow(RangeError);
  });

  it('tags root sessions with 64 bits that change with the admin key', () => {
    const tag = new RootCredential(adminKey).tag;
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    expect(new RootCredential(adminKey).tag).toBe(tag);
    expect(new RootCredential(`${adminKey}2`).tag).not.toBe(tag);
  });

  it('is the principal of every scope in tenant default, frozen', () => {
    expect(ROOT_PRINCIPAL).toEqual({
      tenant: 'default',
      keyId: 'root',
      scopes: ['read', 'tokens:write', 'workflows:write', 'keys:admin', 'webhooks:admin'],
      root: true,
    });
    expect(Object.isFrozen(ROOT_PRINCIPAL)).toBe(true);
    expect(Object.isFrozen(ROOT_PRINCIPAL.scopes)).toBe(true);
  });
});
