import type { Kvm } from '@nats-io/kv';
import { LeanKv, type RequestMux } from '@cb/nats';
import type { Naming } from '@cb/subjects';

/** The read-model buckets of one generation, with lean writers. */
export interface ReadModels {
  generation: number;
  tokens: LeanKv;
  places: LeanKv;
  stats: LeanKv;
  workflows: LeanKv;
}

/** Create (idempotently) the four read-model buckets of a generation. */
export async function ensureReadModels(
  kvm: Kvm,
  mux: RequestMux,
  naming: Naming,
  generation: number,
  replicas: number,
): Promise<ReadModels> {
  const open = async (kind: 'tokens' | 'places' | 'stats' | 'workflows'): Promise<LeanKv> => {
    const bucket = naming.readModelBucket(kind, generation);
    await kvm.create(bucket, { history: 1, replicas, allow_direct: true });
    return new LeanKv(mux, bucket);
  };
  return {
    generation,
    tokens: await open('tokens'),
    places: await open('places'),
    stats: await open('stats'),
    workflows: await open('workflows'),
  };
}
