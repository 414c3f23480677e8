import { compileValidator } from './validate';
import { CreateKeyBody, CreatedApiKey, Principal, SessionRecord } from './auth';
import { Tenant } from './common';

describe('auth schemas', () => {
  it('takes tenants of 1-32 characters of a-z, 0-9, _ or - only', () => {
    const v = compileValidator(Tenant);
    for (const ok of ['default', 'a', 'acme_eu-1', 'x'.repeat(32)]) expect(v.check(ok)).toBe(true);
    for (const bad of ['', 'Acme', 'a.b', 'a b', 'x'.repeat(33), 'é', '*', '>']) {
      expect(v.check(bad)).toBe(false);
    }
  });

  it('bounds a key request: known scopes once each, a window of at most an hour, no extras', () => {
    const v = compileValidator(CreateKeyBody);
    expect(v.check({ tenant: 'acme', scopes: ['read'] })).toBe(true);
    expect(
      v.check({
        tenant: 'acme',
        name: 'ci',
        scopes: ['read', 'tokens:write'],
        workflows: ['orders', 'not_defined_yet'],
        expiresAt: '2030-01-01T00:00:00.000Z',
        rateLimit: { requests: 100, windowSeconds: 60 },
      }),
    ).toBe(true);
    expect(v.check({ tenant: 'acme', scopes: [] })).toBe(false);
    expect(v.check({ tenant: 'acme', scopes: ['read', 'read'] })).toBe(false);
    expect(v.check({ tenant: 'acme', scopes: ['admin'] })).toBe(false);
    expect(v.check({ tenant: 'acme', scopes: ['read'], root: true })).toBe(false);
    expect(
      v.check({
        tenant: 'acme',
        scopes: ['read'],
        rateLimit: { requests: 1, windowSeconds: 3601 },
      }),
    ).toBe(false);
    expect(v.check({ tenant: 'acme', scopes: ['read'], workflows: ['a.b'] })).toBe(false);
  });

  it('shows a created key in the cb_<id>_<secret> shape only', () => {
    const v = compileValidator(CreatedApiKey);
    const base = {
      id: 'AbCdEfGh01234567',
      tenant: 'acme',
      scopes: ['read'],
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: { tenant: 'default', keyId: 'root' },
    };
    expect(v.check({ ...base, key: `cb_AbCdEfGh01234567_${'a'.repeat(32)}` })).toBe(true);
    expect(v.check({ ...base, key: `cb_AbCdEfGh01234567_${'a'.repeat(31)}` })).toBe(false);
    expect(v.check({ ...base, key: 'x', hash: 'a'.repeat(64) })).toBe(false);
  });

  it('keeps principals and session records to their fields', () => {
    const p = compileValidator(Principal);
    expect(p.check({ tenant: 'default', keyId: 'root', scopes: ['read'], root: true })).toBe(true);
    expect(p.check({ tenant: 'default', keyId: 'nope', scopes: ['read'] })).toBe(false);
    const s = compileValidator(SessionRecord);
    expect(
      s.check({
        tenant: 'acme',
        keyId: 'AbCdEfGh01234567',
        scopes: ['read'],
        expiresAt: '2026-01-01T01:00:00.000Z',
        createdAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toBe(true);
  });
});
