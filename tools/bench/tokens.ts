import type { LeanConnection } from './lean-http';

/** A write's answer: the token and its `version` (the seq of its last event, for `minSeq`). */
export interface Written {
  id: string;
  version: number;
}

/** How long a benchmark waits for its writes to be projected before it gives up. */
const PROJECTED_TIMEOUT_MS = 60_000;

/**
 * `count` creates through the gateway, one in flight per connection; `bodyOf(i)` is the i-th
 * create's JSON body. Returns every id and the write with the highest version. A create that
 * does not answer 201 aborts the benchmark: its figures would not be what they claim.
 */
export async function createTokens(
  conns: LeanConnection[],
  workflowId: string,
  count: number,
  bodyOf: (i: number) => string,
): Promise<{ all: string[]; last: Written }> {
  const all: string[] = [];
  let last: Written = { id: '', version: 0 };
  let next = 0;
  await Promise.all(
    conns.map(async (conn) => {
      for (let i = next++; i < count; i = next++) {
        const res = await conn.request('POST', `/v1/workflows/${workflowId}/tokens`, bodyOf(i));
        if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.body}`);
        const token = JSON.parse(res.body) as Written;
        all.push(token.id);
        if (token.version > last.version) last = { id: token.id, version: token.version };
      }
    }),
  );
  return { all, last };
}

/**
 * Reads `written` with `minSeq` (read-your-writes) until the gateway serves it fresh; a 503
 * (the projection lags past the gateway's wait) is asked again, anything else but 200 fails.
 */
export async function waitProjected(conn: LeanConnection, written: Written): Promise<void> {
  const deadline = Date.now() + PROJECTED_TIMEOUT_MS;
  for (;;) {
    const res = await conn.request('GET', `/v1/tokens/${written.id}?minSeq=${written.version}`);
    if (res.status === 200) return;
    if (res.status !== 503 || Date.now() > deadline) {
      throw new Error(`token ${written.id} not projected: ${res.status} ${res.body}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
