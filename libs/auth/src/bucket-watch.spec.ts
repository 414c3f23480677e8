import type { KV } from '@nats-io/kv';
import { createLogger } from '@cb/logging';
import { BucketWatch } from './bucket-watch';

describe('BucketWatch (unit)', () => {
  it('stops at once while it backs off between failed attempts, not after the back-off', async () => {
    let attempts = 0;
    // A bucket whose watch cannot be created (as when NATS refuses it): every attempt fails and
    // the watch backs off 250 ms, 500 ms, 1 s, 2 s, 4 s … between them.
    const kv = {
      status: async () => ({ streamInfo: { state: { last_seq: 0 } } }),
      watch: async () => {
        attempts++;
        throw new Error('no watch');
      },
    } as unknown as KV;
    const watch = new BucketWatch({
      kv,
      name: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      onChange: () => undefined,
      onReset: () => undefined,
    });
    await watch.start();
    expect(watch.trusted).toBe(false);
    // After ~2 s the fourth attempt has failed and a 2 s back-off runs (then 4 s).
    await new Promise((r) => setTimeout(r, 2000));
    expect(attempts).toBeGreaterThanOrEqual(3);
    const started = performance.now();
    await watch.stop();
    expect(performance.now() - started).toBeLessThan(100);
    const after = attempts;
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toBe(after);
  });
});
