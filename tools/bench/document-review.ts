import { loadFixtureWorkflow } from '@cb/testing';
import type { LeanConnection } from './lean-http';

/**
 * The document-review fixture as the full-stack benchmarks use it: tokens with about 300 bytes
 * of data, fired round its loop submit → review → reject → revise (back to draft), so a token
 * can take any number of fires.
 */
export const DOCUMENT_LOOP = ['submit', 'review', 'reject', 'revise'] as const;

/** The regions tokens are spread over (`metadata.region`): a filter on one matches a quarter. */
export const REGIONS = ['eu', 'us', 'apac', 'latam'] as const;

/** The i-th token's create body: ~300 bytes of data, metadata with its region. */
export function documentBody(i: number): string {
  return JSON.stringify({
    data: {
      title: `Quarterly report ${i}`,
      author: `author-${i % 211}@example.com`,
      pages: 1 + (i % 40),
      tags: ['finance', 'review', `batch-${i % 17}`],
      abstract:
        'Revenue, costs and outlook for the quarter, with the notes the reviewers asked for ' +
        'and the tables of the appendix, for sign-off by finance.',
      checksum: (i * 2654435761).toString(16).padStart(12, '0'),
    },
    metadata: { region: REGIONS[i % REGIONS.length], team: `team-${i % 7}` },
  });
}

/**
 * Defines the fixture as `workflowId` (with `extra` fields such as `searchAttributes`); returns
 * the status and body of the answer, which the caller judges.
 */
export async function defineDocumentReview(
  conn: LeanConnection,
  workflowId: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: string }> {
  const definition = { ...loadFixtureWorkflow('document-review'), id: workflowId, ...extra };
  return conn.request('POST', '/v1/workflows', JSON.stringify(definition));
}

/** One token a worker fires round the loop; `version` is its last write's (for `minSeq`). */
export interface LoopedToken {
  workflowId: string;
  id: string;
  step: number;
  version: number;
}

/** Fire the token's next transition; true when it answered 200 (then it moves on). */
export async function fireNext(
  conn: LeanConnection,
  token: LoopedToken,
): Promise<{ ok: true } | { ok: false; status: number; body: string }> {
  const res = await conn.request(
    'POST',
    `/v1/workflows/${token.workflowId}/tokens/${token.id}/fire`,
    JSON.stringify({ transition: DOCUMENT_LOOP[token.step % DOCUMENT_LOOP.length] }),
  );
  if (res.status !== 200) return { ok: false, status: res.status, body: res.body };
  token.step++;
  token.version = (JSON.parse(res.body) as { version: number }).version;
  return { ok: true };
}
