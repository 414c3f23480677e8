import type { Registry } from 'prom-client';
import type { EventStore } from '@cb/nats';
import { scrapedGauge } from '@cb/ops';
import type { Naming } from '@cb/subjects';
import type { Watermarks } from './read-view';

/**
 * `cb_read_model_lag_seconds{item}` on the gateway's /metrics: for each partition (and the
 * definitions), the seconds between the stream time of its last event and that of the last event
 * its projection applied (the watermark the gateway follows) — how far behind the stream the read
 * models it answers from are, whether or not any worker runs. Asked of the stream at each scrape
 * (at most two direct gets per partition).
 */
export function registerReadModelLag(
  registry: Registry,
  store: EventStore,
  naming: Naming,
  watermark: Watermarks,
): void {
  const items: Array<number | 'definitions'> = [
    ...Array.from({ length: naming.partitions }, (_, p) => p),
    'definitions',
  ];
  const filterOf = (item: number | 'definitions'): string =>
    item === 'definitions' ? naming.allWorkflowsSubject : naming.partitionFilter(item);
  scrapedGauge({
    name: 'cb_read_model_lag_seconds',
    help: 'Time-based lag of the read models the gateway reads: seconds between the stream time of the last event of a partition (or the definitions) and that of the last one applied (its watermark); 0 when caught up',
    label: 'item',
    registry,
    sources: () =>
      items.map(
        (item) => [String(item), () => store.lagSeconds(filterOf(item), watermark(item))] as const,
      ),
  });
}
