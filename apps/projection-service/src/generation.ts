import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import type { ReadModelPointer } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/**
 * The read-model generation every reader and worker follows (meta key `readmodels`). Created
 * as generation 1 on first use; a rebuild fills generation n+1 and then switches it atomically.
 */
export async function currentGeneration(meta: KV, naming: Naming): Promise<ReadModelPointer> {
  const key = naming.readModelPointerKey;
  const entry = await meta.get(key);
  const value =
    entry && entry.operation === 'PUT'
      ? (decodeJson(entry.value) as ReadModelPointer | undefined)
      : undefined;
  if (value && Number.isInteger(value.generation)) return value;
  const initial: ReadModelPointer = { generation: 1, switchedAt: new Date().toISOString() };
  try {
    await meta.create(key, encodeJson(initial));
    return initial;
  } catch {
    const again = await meta.get(key);
    const parsed = again ? (decodeJson(again.value) as ReadModelPointer | undefined) : undefined;
    if (parsed) return parsed;
    throw new Error('cannot read or create the read-model pointer');
  }
}

/** Calls `onChange` with every new pointer value (including the current one first). */
export async function watchGeneration(
  meta: KV,
  naming: Naming,
  onChange: (pointer: ReadModelPointer) => void,
): Promise<{ stop(): void }> {
  const watcher = await meta.watch({ key: naming.readModelPointerKey });
  void (async () => {
    for await (const e of watcher) {
      if (e.operation !== 'PUT') continue;
      const value = decodeJson(e.value) as ReadModelPointer | undefined;
      if (value && Number.isInteger(value.generation)) onChange(value);
    }
  })();
  return { stop: () => watcher.stop() };
}
