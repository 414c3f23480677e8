import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import { kvStreamName, type Naming, READ_MODEL_KINDS } from '@cb/subjects';
import type { Lease, ReadModelPointer } from '@cb/schemas';
import { consumerName, type WorkItem } from './consumers';
import { Projector, type ProjectorDeps } from './projector';

export interface RebuildProgress {
  applied: number;
  total: number;
  eventsPerSecond: number;
}

export interface RebuildOptions {
  deps: ProjectorDeps;
  meta: KV;
  naming: Naming;
  logger: Logger;
  onProgress?: (p: RebuildProgress) => void;
  /** How long to wait for live workers to leave the old generation before deleting it. */
  cleanupTimeoutMs?: number;
}

export interface RebuildResult {
  from: number;
  to: number;
  events: number;
  seconds: number;
}

/**
 * Replays the whole stream into a fresh read-model generation, then switches readers and
 * workers to it atomically (compare-and-set on the pointer they follow), and only then removes
 * the old generation. The live read models keep serving until the switch.
 */
export async function rebuildReadModels(o: RebuildOptions): Promise<RebuildResult> {
  const { deps, meta, naming, logger } = o;
  const started = Date.now();
  const pointerEntry = await meta.get(naming.readModelPointerKey);
  const pointer = pointerEntry ? (decodeJson(pointerEntry.value) as ReadModelPointer) : null;
  const from = pointer?.generation ?? 1;
  const to = from + 1;
  const items: WorkItem[] = [
    ...Array.from({ length: naming.partitions }, (_, p) => p),
    'definitions',
  ];

  await removeGeneration(o, to, items); // leftovers of an interrupted rebuild
  logger.info({ from, to }, 'rebuilding read models');
  const projector = new Projector({ ...deps, claimAll: true }, to);
  await projector.start();

  const total = (await deps.jsm.streams.info(naming.stream)).state.messages;
  let last = { at: Date.now(), applied: 0 };
  for (;;) {
    const pending = await pendingOf(o, to, items);
    const applied = Math.max(0, total - pending);
    const now = Date.now();
    const rate = now > last.at ? ((applied - last.applied) * 1000) / (now - last.at) : 0;
    last = { at: now, applied };
    o.onProgress?.({ applied: Math.min(applied, total), total, eventsPerSecond: rate });
    if (pending === 0 && projector.owned.length === items.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  const next: ReadModelPointer = { generation: to, switchedAt: new Date().toISOString() };
  try {
    if (pointerEntry)
      await meta.update(naming.readModelPointerKey, encodeJson(next), pointerEntry.revision);
    else await meta.create(naming.readModelPointerKey, encodeJson(next));
  } catch (err) {
    await projector.stop();
    throw new Error(
      'the read-model pointer changed during the rebuild (another rebuild?); nothing was switched',
      {
        cause: err,
      },
    );
  }
  logger.info({ from, to }, 'readers switched to the rebuilt read models');
  // Hand the new generation to the live workers (they follow the pointer), then drop the old one.
  await projector.stop();
  await waitForOldLeases(o, from, items);
  await removeGeneration(o, from, items);
  const seconds = (Date.now() - started) / 1000;
  logger.info({ from, to, seconds }, 'old read models removed');
  return { from, to, events: total, seconds };
}

async function pendingOf(
  o: RebuildOptions,
  generation: number,
  items: WorkItem[],
): Promise<number> {
  let pending = 0;
  for (const item of items) {
    const info = await o.deps.jsm.consumers.info(
      o.naming.stream,
      consumerName(o.naming, generation, item),
    );
    pending += info.num_pending + info.num_ack_pending;
  }
  return pending;
}

async function waitForOldLeases(
  o: RebuildOptions,
  generation: number,
  items: WorkItem[],
): Promise<void> {
  const deadline = Date.now() + (o.cleanupTimeoutMs ?? o.deps.settings.leaseTtlMs * 2);
  while (Date.now() < deadline) {
    let held = 0;
    for (const item of items) {
      const e = await o.deps.projectorKv.get(o.naming.leaseKey(generation, item));
      const lease = e?.operation === 'PUT' ? (decodeJson(e.value) as Lease | undefined) : undefined;
      if (lease && lease.expiresAt > Date.now()) held++;
    }
    if (held === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  o.logger.warn({ generation }, 'old leases still held; removing the old read models anyway');
}

/** Delete a generation's consumers, buckets, leases and watermarks (all of it is derived). */
async function removeGeneration(
  o: RebuildOptions,
  generation: number,
  items: WorkItem[],
): Promise<void> {
  const { jsm, projectorKv } = o.deps;
  for (const item of items) {
    await jsm.consumers
      .delete(o.naming.stream, consumerName(o.naming, generation, item))
      .catch(() => undefined);
    await projectorKv.purge(o.naming.leaseKey(generation, item)).catch(() => undefined);
    await projectorKv.purge(o.naming.watermarkKey(generation, item)).catch(() => undefined);
  }
  for (const kind of READ_MODEL_KINDS) {
    await jsm.streams
      .delete(kvStreamName(o.naming.readModelBucket(kind, generation)))
      .catch(() => undefined);
  }
}
