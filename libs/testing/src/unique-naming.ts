import { randomBytes } from 'node:crypto';
import { DEFAULT_NAMING, Naming } from '@cb/subjects';

/**
 * A `Naming` with a random prefix (`t<8 hex>`) and stream (`T<8 HEX>_EVENTS`), so suites can
 * share one nats-server without seeing each other's subjects, streams or buckets.
 */
export function uniqueNaming(partitions: number = DEFAULT_NAMING.partitions): Naming {
  const id = randomBytes(4).toString('hex');
  return new Naming({ prefix: `t${id}`, stream: `T${id.toUpperCase()}_EVENTS`, partitions });
}
