import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_TENANT } from '@cb/subjects';
import type { Errors } from './errors';
import type { LaunchedStack } from './launched-stack';
import type { LeanConnection } from './lean-http';
import { isLivePut } from './read-path';

/** One page of a list or search answer. */
export interface Page {
  items: unknown[];
  nextCursor?: string;
}

/**
 * GET a page through the gateway; a status other than 200 is counted (by `what` and status) and
 * answers null.
 */
export async function getPage(
  conn: LeanConnection,
  path: string,
  errors: Errors,
  what = 'page',
): Promise<Page | null> {
  const res = await conn.request('GET', path);
  if (res.status === 200) return JSON.parse(res.body) as Page;
  errors.add(`${what}: ${res.status} ${res.body.slice(0, 160)}`);
  return null;
}

/**
 * The raw baseline of the reads: a NATS KV client (`@nats-io/kv`, as the gateway's NATS user)
 * getting a random one of `tokenIds` from the tokens bucket the projections write — what
 * reading KV directly costs a user.
 */
export async function openRawTokenGets(
  stack: LaunchedStack,
  tokenIds: string[],
  errors: Errors,
): Promise<{ op: () => Promise<boolean>; close: () => Promise<void> }> {
  const nc = await connect(stack.natsAs('gateway'));
  const kv = await new Kvm(nc).open(stack.naming.readModelBucket('tokens', 1));
  const keys = tokenIds.map((id) => stack.naming.tokenKey(DEFAULT_TENANT, id));
  return {
    op: errors.guard(async () =>
      isLivePut(await kv.get(keys[(Math.random() * keys.length) | 0]!), errors),
    ),
    close: () => nc.close(),
  };
}
