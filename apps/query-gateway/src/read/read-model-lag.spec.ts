import { Registry } from 'prom-client';
import type { EventStore } from '@cb/nats';
import { Naming } from '@cb/subjects';
import { registerReadModelLag } from './read-model-lag';

// How the lag is measured on the stream is EventStore.lagSeconds' (event-store.int.spec.ts).
it('gauges each partition and the definitions from its watermark, without a sample for one NATS does not answer', async () => {
  const naming = new Naming({ prefix: 'cb', stream: 'CB_EVENTS', partitions: 2 });
  const marks: Record<string, number> = { '0': 7, '1': 9, definitions: 3 };
  const asked: Array<[string, number]> = [];
  const store = {
    lagSeconds: async (filter: string, seq: number) => {
      asked.push([filter, seq]);
      if (filter === naming.partitionFilter(1)) throw new Error('no answer in time');
      return filter === naming.allWorkflowsSubject ? 0 : 2.5;
    },
  } as unknown as EventStore;
  const registry = new Registry();
  registerReadModelLag(registry, store, naming, (item) => marks[String(item)] ?? 0);

  const gauge = registry.getSingleMetric('cb_read_model_lag_seconds')!;
  expect((await gauge.get()).values).toEqual([
    { labels: { item: '0' }, value: 2.5 },
    { labels: { item: 'definitions' }, value: 0 },
  ]);
  expect(asked).toEqual([
    [naming.partitionFilter(0), 7],
    [naming.partitionFilter(1), 9],
    [naming.allWorkflowsSubject, 3],
  ]);
  // The watermarks are read at each scrape.
  marks['0'] = 8;
  await gauge.get();
  expect(asked[3]).toEqual([naming.partitionFilter(0), 8]);
});
