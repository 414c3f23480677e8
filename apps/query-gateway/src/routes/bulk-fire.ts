import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BULK_FIRE_MAX_TOKENS,
  BulkFireBody,
  BulkFireHeaders,
  BulkFirePreview,
  BulkFirePreviewBody,
  BulkFireResult,
  MinSeqQuery,
  Problem,
  WorkflowParams,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { principalRefOf, tenantOf } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { listCandidates } from '../bulk-fire/candidates';
import { bulkFire } from '../bulk-fire/run';
import { MAX_VERSIONS, definitionVersions, resolveScope } from '../bulk-fire/scope';
import type { Reads } from '../read/reads';

export interface BulkFireRouteDeps {
  commands: CommandClient;
  reads: Reads;
  /** Fires in flight at once for one request (BULK_FIRE_CONCURRENCY). */
  concurrency: number;
  /**
   * How long Idempotency-Keys are remembered (CB_DUPLICATE_WINDOW_MS): with a key, tokens this
   * transition moved that long ago are looked at again, so a repeat reports them. Only the
   * report depends on it: a token is never fired twice under one key.
   */
  idempotencyWindowMs: number;
}

const DESCRIPTION = `Fires \`transition\` on every live token of the workflow that matches, at most \`limit\` (default and maximum ${BULK_FIRE_MAX_TOKENS}) per request, a bounded number at a time.

- **Which tokens**: tokens in \`place\` (a declared place the transition fires from), or by default in every \`from\` place of the transition (only tokens that could fire), as the read model lists them (\`?minSeq=\` makes the listing read-your-writes). \`filter.metadata\` / \`filter.data\` keep tokens whose top-level keys equal the given string, number or boolean (typed: \`1\` does not match \`"1"\`). Transitions and places of every definition version (the ${MAX_VERSIONS} newest) count, since each token fires against the version it is pinned to.
- **Before firing anything**: unknown workflow → 404 \`WORKFLOW_NOT_FOUND\`; undeclared place → 400 \`VALIDATION_ERROR\`; a transition no version defines, or a place it does not fire from → 422 \`TRANSITION_NOT_ENABLED\`.
- **Per token**: each token is fired like \`POST …/tokens/:tokenId/fire\` without patches; a token that does not fire (guard failed, moved meanwhile, conflict, …) is listed in \`errors\` with the code that route would answer, and never fails the request. Only a failure to list the tokens, or NATS / the command service being unavailable before anything fired, answers an error (503, safe to retry).
- **More than \`limit\` tokens**: the first \`limit\` in token-id order are fired, and the answer has \`truncated: true\` and \`nextCursor\`: send the same request with \`cursor\` to continue (tokens that failed are not retried by the continuation). The listing work per request is bounded too, so \`truncated\` may come with fewer than \`limit\` tokens.
- **Safe to repeat**: with an \`Idempotency-Key\`, each token is fired with a key derived from it and the token id, so no token is fired twice under one key; a repeat within the idempotency window also reports the tokens the first request already moved (as \`replayed\`, no new event), so it answers the same \`succeededIds\`. Without the key, a repeat simply no longer finds the tokens that moved.
- \`If-Match\` is refused (400): a version belongs to one token.`;

export const bulkFireRoutes: FastifyPluginAsync<BulkFireRouteDeps> = async (
  app,
  { commands, reads, concurrency, idempotencyWindowMs },
) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/v1/workflows/:workflowId/bulk-fire/preview',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'previewBulkFire',
        tags: ['tokens'],
        summary: 'How many tokens a bulk fire with this body would try to fire, firing nothing',
        description: `Lists the tokens exactly as \`POST …/bulk-fire\` would (same \`transition\`, \`place\` and \`filter\`, same checks and errors before anything fires) and counts them, up to ${BULK_FIRE_MAX_TOKENS}; \`capped: true\` when more may match (a bulk fire would answer \`truncated\`). Guards are not evaluated: a token counted here may still fail with GUARD_FAILED when fired. Writes nothing, so the \`read\` scope is enough.`,
        params: WorkflowParams,
        querystring: MinSeqQuery,
        body: BulkFirePreviewBody,
        response: {
          200: BulkFirePreview,
          400: Problem,
          404: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (req) => {
      const { workflowId } = req.params;
      const tenant = tenantOf(req);
      const { transition, place, filter } = req.body;
      const versions = await definitionVersions(reads, tenant, workflowId);
      const scope = resolveScope(workflowId, versions, transition, place);
      const { batch, nextAfter } = await listCandidates(reads, {
        tenant,
        workflowId,
        transition,
        scope,
        filter,
        key: undefined,
        since: Date.now(),
        after: undefined,
        limit: BULK_FIRE_MAX_TOKENS,
        minSeq: req.query.minSeq,
      });
      return { matched: batch.length, capped: nextAfter !== undefined };
    },
  );

  api.post(
    '/v1/workflows/:workflowId/bulk-fire',
    {
      config: { scope: 'tokens:write' },
      schema: {
        operationId: 'bulkFire',
        tags: ['tokens'],
        summary:
          'Fire a transition on every matching token (default: tokens in the transition’s `from` places); counts and per-token errors',
        description: DESCRIPTION,
        params: WorkflowParams,
        querystring: MinSeqQuery,
        body: BulkFireBody,
        headers: BulkFireHeaders,
        response: {
          200: BulkFireResult,
          400: Problem,
          404: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (req, reply) => {
      const { workflowId } = req.params;
      const tenant = tenantOf(req);
      const { transition } = req.body;
      const key = req.headers['idempotency-key'];
      if (req.raw.headers['if-match'] !== undefined) {
        throw new ApiError(
          'VALIDATION_ERROR',
          'If-Match is not supported by bulk-fire (a version belongs to one token); narrow the request with place and filter instead',
          { errors: [{ path: 'headers/if-match', message: 'is not supported here' }] },
        );
      }
      // A client that went away gets no answer: stop firing (a repeat with the key is safe).
      let aborted = false;
      reply.raw.once('close', () => {
        if (!reply.raw.writableEnded) aborted = true;
      });
      const result = await bulkFire(
        { commands, reads, concurrency, idempotencyWindowMs },
        {
          tenant,
          principal: principalRefOf(req),
          workflowId,
          body: req.body,
          idempotencyKey: key,
          minSeq: req.query.minSeq,
          requestId: req.id,
          aborted: () => aborted,
          log: req.log,
        },
      );
      req.log.info(
        {
          workflowId,
          transition,
          matched: result.matched,
          succeeded: result.succeeded,
          failed: result.failed,
          replayed: result.replayed,
          truncated: result.truncated,
          aborted,
        },
        'bulk fire',
      );
      return reply.send(result);
    },
  );
};
