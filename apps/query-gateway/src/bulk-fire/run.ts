import {
  BULK_FIRE_MAX_TOKENS,
  type BulkFireBody,
  type BulkFireResult,
  type CommandRequest,
  type PrincipalRef,
} from '@cb/schemas';
import type { CommandClient } from '../command-client';
import { encodeCursor } from '../read/cursor';
import type { Reads } from '../read/reads';
import { cursorList, decodeBulkCursor, listCandidates } from './candidates';
import { runFirePool, tokenKey } from './fire-pool';
import { bulkFireReport } from './report';
import { definitionVersions, resolveScope } from './scope';

export interface BulkFireDeps {
  commands: CommandClient;
  reads: Reads;
  concurrency: number;
  idempotencyWindowMs: number;
}

export interface BulkFireRequest {
  tenant: string;
  principal: PrincipalRef;
  workflowId: string;
  body: BulkFireBody;
  idempotencyKey: string | undefined;
  minSeq: number | undefined;
  requestId: string;
  /** Whether the client went away (then nothing more is fired). */
  aborted: () => boolean;
  log: { error(obj: object, msg: string): void };
}

/**
 * One bulk fire (`POST /v1/workflows/:workflowId/bulk-fire`, GraphQL's `bulkTransitionTokens`):
 * list the candidates, fire them a bounded number at a time, report. See routes/bulk-fire.ts.
 */
export async function bulkFire(deps: BulkFireDeps, r: BulkFireRequest): Promise<BulkFireResult> {
  const { reads, commands } = deps;
  const { tenant, workflowId, body, idempotencyKey: key } = r;
  const { transition, place, filter, triggeredBy, cursor } = body;
  const limit = body.limit ?? BULK_FIRE_MAX_TOKENS;
  const after = decodeBulkCursor(workflowId, transition, cursor);
  const versions = await definitionVersions(reads, tenant, workflowId);
  const scope = resolveScope(workflowId, versions, transition, place);
  const { batch, kinds, nextAfter } = await listCandidates(reads, {
    tenant,
    workflowId,
    transition,
    scope,
    filter,
    key,
    since: Date.now() - deps.idempotencyWindowMs,
    after,
    limit,
    minSeq: r.minSeq,
  });
  const run = await runFirePool({
    batch,
    kinds,
    concurrency: deps.concurrency,
    aborted: r.aborted,
    unexpected: (err, tokenId) =>
      r.log.error({ err, tokenId }, 'bulk fire: unexpected error firing a token'),
    fire: async (tokenId, kind) => {
      const request: CommandRequest = {
        command: { type: 'FireTransition', workflowId, tokenId, transition },
        principal: r.principal,
        ...(triggeredBy !== undefined ? { triggeredBy } : {}),
        ...(key !== undefined ? { idempotencyKey: tokenKey(key, tokenId) } : {}),
        // A replay candidate must not fire anew: version 0 never matches a live token, and
        // the command service answers a remembered key with the original result before that.
        ...(kind === 'replay' ? { expectedVersion: 0 } : {}),
      };
      const { token, duplicate } = await commands.token(request, r.requestId);
      return { version: token.version, duplicate };
    },
  });
  return bulkFireReport(
    batch,
    kinds,
    run,
    nextAfter === undefined
      ? undefined
      : encodeCursor(cursorList(workflowId, transition), nextAfter),
  );
}
