import { IdempotencyKey, compileValidator } from '@cb/schemas';
import { timerFireKey } from './fire-key';

describe('timerFireKey', () => {
  it('is stable for one timer and differs for every other part', () => {
    const key = timerFireKey('acme', 'order-1', 42, 'expire');
    expect(key).toBe('timer=acme=order-1=42=expire');
    expect(timerFireKey('acme', 'order-1', 42, 'expire')).toBe(key);
    const others = [
      timerFireKey('other', 'order-1', 42, 'expire'),
      timerFireKey('acme', 'order-2', 42, 'expire'),
      timerFireKey('acme', 'order-1', 43, 'expire'),
      timerFireKey('acme', 'order-1', 42, 'escalate'),
    ];
    expect(new Set([key, ...others]).size).toBe(5);
  });

  it('keeps parts apart that a dash-joined key would confuse', () => {
    expect(timerFireKey('a-b', 'c', 1, 'd')).not.toBe(timerFireKey('a', 'b-c', 1, 'd'));
    expect(timerFireKey('a', 'b_1', 2, 'd')).not.toBe(timerFireKey('a', 'b', 12, 'd'));
  });

  it('is a valid Idempotency-Key, subject token and KV key at the longest inputs', () => {
    const key = timerFireKey(
      't'.repeat(32),
      'k'.repeat(64),
      Number.MAX_SAFE_INTEGER,
      'x'.repeat(64),
    );
    expect(key).toHaveLength(185);
    expect(compileValidator(IdempotencyKey).check(key)).toBe(true);
    expect(key).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
    expect(key).not.toMatch(/[.*> ]/);
  });

  it.each([
    ['Acme', 'order-1', 1, 'go'],
    ['acme', 'order.1', 1, 'go'],
    ['acme', 'order-1', 1, 'go>'],
    ['acme', 'order-1', 0, 'go'],
    ['acme', 'order-1', 1.5, 'go'],
  ])('refuses %j %j %j %j', (tenant, token, seq, transition) => {
    expect(() => timerFireKey(tenant, token, seq, transition)).toThrow();
  });
});
