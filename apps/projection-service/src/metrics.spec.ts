import { DEAD_LETTER_KINDS } from './dead-letters';
import { createProjectionMetrics } from './metrics';

describe('projection worker metrics', () => {
  it('names the process metrics as every service does (cb_ prefixed)', async () => {
    const text = await createProjectionMetrics().registry.metrics();
    expect(text).toMatch(/^cb_process_cpu_user_seconds_total \d/m);
    expect(text).not.toMatch(/^(process|nodejs)_/m);
    expect(text).not.toContain('cb_projection_service_');
  });

  it('has a dead-letter series of every kind at 0 before the first dead letter', async () => {
    const metrics = createProjectionMetrics();
    const values = (await metrics.deadLetters.get()).values;
    expect(values).toEqual(DEAD_LETTER_KINDS.map((kind) => ({ labels: { kind }, value: 0 })));
    metrics.deadLetters.inc({ kind: 'invalid' });
    expect((await metrics.deadLetters.get()).values).toContainEqual({
      labels: { kind: 'invalid' },
      value: 1,
    });
  });

  it('gauges the time-based lag of the partitions it runs, leaving out one that cannot be read', async () => {
    const metrics = createProjectionMetrics();
    const idle = { pending: 0, oldestUnappliedAt: null, failingSince: null };
    const stop0 = metrics.reportLag(
      '0',
      () => idle,
      async () => 1.5,
    );
    metrics.reportLag(
      '1',
      () => idle,
      () => Promise.reject(new Error('NATS is away')),
    );
    metrics.reportLag('definitions', () => idle);
    const lag = async (): Promise<unknown> =>
      (await metrics.registry.getSingleMetric('cb_projection_lag_seconds')!.get()).values;
    expect(await lag()).toEqual([{ labels: { item: '0' }, value: 1.5 }]);
    stop0();
    expect(await lag()).toEqual([]);
  });
});
