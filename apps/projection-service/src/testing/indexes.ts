import { clipToRange, type IndexChunk, type IndexHead } from '@cb/domain';
import type { LeanKv } from '@cb/nats';
import type { Naming, TokenIndex } from '@cb/subjects';

/** Every id an index lists over all partitions, in order (as readers clip them), for tests. */
export async function indexedIds(
  places: LeanKv,
  naming: Naming,
  tenant: string,
  workflowId: string,
  index: TokenIndex,
): Promise<string[]> {
  const out: string[] = [];
  for (let p = 0; p < naming.partitions; p++) {
    const head = (
      await places.get(naming.indexHeadKey(tenant, workflowId, index, p))
    )?.json<IndexHead>();
    if (!head) continue;
    for (const [position, ref] of head.chunks.entries()) {
      const key = naming.indexChunkKey(tenant, workflowId, index, p, ref.id);
      const chunk = (await places.get(key))?.json<IndexChunk>();
      out.push(...clipToRange(head, position, chunk?.ids ?? []));
    }
  }
  return out.sort();
}

/**
 * The place entries the indexes stand for, keyed as the reference fold keys them
 * (`<tenant>.<workflow>.<place>.<token>` → the token's document), from a bucket's raw contents;
 * each workflow's whole list is checked against them too, as `<tenant>.<workflow>.*.<token>`.
 */
export function placeEntriesOf(
  places: Map<string, unknown>,
  tokens: Map<string, unknown>,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of places) {
    const m = /^([^.]+)\.([^.]+)\.(p|w)\.([^.]+)\.(\d+)\.h$/.exec(key);
    if (!m) continue;
    const [, tenant, workflowId, kind, name, partition] = m;
    const head = value as IndexHead;
    head.chunks.forEach((ref, position) => {
      const chunk = places.get(`${tenant}.${workflowId}.${kind}.${name}.${partition}.c${ref.id}`);
      for (const id of clipToRange(head, position, (chunk as IndexChunk | undefined)?.ids ?? [])) {
        const place = kind === 'p' ? name : '*';
        out.set(`${tenant}.${workflowId}.${place}.${id}`, tokens.get(`${tenant}.${id}`));
      }
    });
  }
  return out;
}
