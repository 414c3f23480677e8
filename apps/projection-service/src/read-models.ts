import type { Logger } from '@cb/logging';
import type { Kvm } from '@nats-io/kv';
import { LeanKv, provision, type RequestMux } from '@cb/nats';
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
  logger?: Logger,
): Promise<ReadModels> {
  const open = async (kind: 'tokens' | 'places' | 'stats' | 'workflows'): Promise<LeanKv> => {
    const bucket = naming.readModelBucket(kind, generation);
    const create = () => kvm.create(bucket, { history: 1, replicas, allow_direct: true });
    // Idempotent: retried while NATS cannot serve it (workers start together on a cluster). The
    // projection user may create generation 1 only; a rebuild (as admin) creates later ones.
    await (logger ? provision(create, { what: `bucket ${bucket}`, logger }) : create());
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
