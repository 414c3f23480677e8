import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BULK_FIRE_MAX_TOKENS,
  BulkFireBody,
  BulkFireHeaders,
  BulkFireResult,
  MinSeqQuery,
  Problem,
  WorkflowParams,
  type BulkFireError,
  type BulkFireFilter,
  type CommandRequest,
  type Token,
  type WorkflowResource,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { principalRefOf, tenantOf } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { decodeCursor, encodeCursor } from '../read/cursor';
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

/** Page size of the place-index listing. */
const PAGE = 1000;
/** Tokens read from the place index per request, beyond each listing's first page. */
const MAX_EXAMINED = 50_000;
/** Definition versions (newest first) whose transitions and places are considered. */
const MAX_VERSIONS = 64;
/** More places than this are listed with one workflow-wide scan instead of one scan each. */
const MAX_PLACE_LISTINGS = 8;
/** Command timeouts after which a request stops firing (the command service is struggling). */
const MAX_TIMEOUTS = 3;

type Scalar = string | number | boolean;
/** `fire`: in a place the transition fires from. `replay`: already moved by this transition. */
type Kind = 'fire' | 'replay';

type Outcome =
  | { ok: true; version: number; duplicate: boolean }
  | { ok: false; code: BulkFireError['code']; message: string }
  | { skip: true };

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
      const { transition, place, filter, triggeredBy, cursor } = req.body;
      const limit = req.body.limit ?? BULK_FIRE_MAX_TOKENS;
      const key = req.headers['idempotency-key'];
      if (req.raw.headers['if-match'] !== undefined) {
        throw new ApiError(
          'VALIDATION_ERROR',
          'If-Match is not supported by bulk-fire (a version belongs to one token); narrow the request with place and filter instead',
          { errors: [{ path: 'headers/if-match', message: 'is not supported here' }] },
        );
      }
      const after = decodeBulkCursor(workflowId, transition, cursor);
      const scope = await resolveScope(reads, tenant, workflowId, transition, place);

      // ---- list: candidates in token-id order, up to `limit`, with bounded work --------------
      const replayPlaces =
        key === undefined ? [] : scope.targets.filter((p) => !scope.places.has(p));
      const since = Date.now() - idempotencyWindowMs;
      const classify = (token: Token): Kind | undefined => {
        if (token.workflowId !== workflowId || !matchesFilter(token, filter)) return undefined;
        if (scope.places.has(token.place)) return 'fire';
        const last = token.lastTransition;
        if (
          key !== undefined &&
          last !== undefined &&
          last.id === transition &&
          last.to === token.place &&
          scope.places.has(last.from) &&
          replayPlaces.includes(token.place) &&
          Date.parse(last.at) >= since
        ) {
          return 'replay';
        }
        return undefined;
      };
      const listed = [...scope.places, ...replayPlaces];
      const listings: Array<string | undefined> =
        listed.length <= MAX_PLACE_LISTINGS ? listed : [undefined];
      const prefilter = textFilter(filter?.metadata);
      const candidates = new Map<string, Kind>();
      /** Every id ≤ bound was examined in every listing; undefined: every listing ran out. */
      let bound: string | undefined;
      let examined = 0;
      for (const listPlace of listings) {
        let from = after;
        // Pages after the first continue the listing's cursor (served from its snapshot).
        let cursor: string | undefined;
        let found = 0;
        for (;;) {
          const { value } = await reads.tokens({
            tenant,
            workflowId,
            ...(listPlace !== undefined ? { place: listPlace } : {}),
            ...(prefilter !== undefined ? { metadata: prefilter } : {}),
            limit: PAGE,
            ...(cursor !== undefined ? { cursor } : from !== undefined ? { after: from } : {}),
            ...(req.query.minSeq !== undefined ? { minSeq: req.query.minSeq } : {}),
          });
          examined += value.items.length;
          for (const token of value.items) {
            const kind = classify(token);
            if (kind === undefined || candidates.get(token.id) === 'fire') continue;
            if (!candidates.has(token.id)) found++;
            candidates.set(token.id, kind);
          }
          const last = value.items.at(-1);
          if (value.nextCursor === undefined || last === undefined) break;
          from = last.id;
          cursor = value.nextCursor;
          if (examined >= MAX_EXAMINED || found >= limit) {
            // This listing stops here: only ids up to `from` are known in every listing.
            bound = bound === undefined || from < bound ? from : bound;
            break;
          }
        }
      }
      const eligible = [...candidates.keys()]
        .filter((id) => bound === undefined || id <= bound)
        .sort(byId);
      const batch = eligible.slice(0, limit);
      const nextCursor = eligible.length > limit ? batch.at(-1) : bound;

      // ---- fire, `concurrency` at a time ----------------------------------------------------
      // A client that went away gets no answer: stop firing (a repeat with the key is safe).
      let aborted = false;
      reply.raw.once('close', () => {
        if (!reply.raw.writableEnded) aborted = true;
      });
      const outcomes: Array<Outcome | undefined> = new Array(batch.length);
      let stop: ApiError | undefined;
      let timeouts = 0;
      let next = 0;
      const fireOne = async (tokenId: string, kind: Kind): Promise<Outcome> => {
        const request: CommandRequest = {
          command: { type: 'FireTransition', workflowId, tokenId, transition },
          principal: principalRefOf(req),
          ...(triggeredBy !== undefined ? { triggeredBy } : {}),
          ...(key !== undefined ? { idempotencyKey: tokenKey(key, tokenId) } : {}),
          // A replay candidate must not fire anew: version 0 never matches a live token, and the
          // command service answers a remembered key with the original result before that check.
          ...(kind === 'replay' ? { expectedVersion: 0 } : {}),
        };
        try {
          const { token, duplicate } = await commands.token('token.fire', request, req.id);
          return { ok: true, version: token.version, duplicate };
        } catch (err) {
          if (!(err instanceof ApiError)) {
            req.log.error({ err, tokenId }, 'bulk fire: unexpected error firing a token');
            return {
              ok: false,
              code: 'INTERNAL_ERROR',
              message: 'unexpected error; it was logged',
            };
          }
          if (err.code === 'SERVICE_UNAVAILABLE' || err.code === 'COMMAND_SERVICE_UNAVAILABLE') {
            stop ??= err;
          } else if (err.code === 'COMMAND_TIMEOUT' && ++timeouts >= MAX_TIMEOUTS) {
            stop ??= err;
          }
          // A replay candidate this key did not fire is not part of this request.
          if (kind === 'replay' && err.code !== 'IDEMPOTENCY_KEY_REUSED') return { skip: true };
          return { ok: false, code: err.code, message: err.message };
        }
      };
      const worker = async (): Promise<void> => {
        while (stop === undefined && !aborted && next < batch.length) {
          const i = next++;
          const tokenId = batch[i]!;
          outcomes[i] = await fireOne(tokenId, candidates.get(tokenId)!);
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(Math.max(1, concurrency), batch.length) }, worker),
      );

      // ---- report ---------------------------------------------------------------------------
      const succeededIds: string[] = [];
      const errors: BulkFireError[] = [];
      let replayed = 0;
      let fresh = 0;
      let version: number | undefined;
      batch.forEach((tokenId, i) => {
        const outcome = outcomes[i];
        if (outcome === undefined) {
          // Not attempted: the request stopped (NATS or the command service unavailable).
          if (stop !== undefined && candidates.get(tokenId) === 'fire') {
            errors.push({
              tokenId,
              code: stop.code,
              message: `not attempted after an earlier failure: ${stop.message}`,
            });
          }
        } else if ('skip' in outcome) {
          // A token this key did not fire earlier.
        } else if (outcome.ok) {
          succeededIds.push(tokenId);
          if (outcome.duplicate) replayed++;
          else fresh++;
          version = Math.max(version ?? 0, outcome.version);
        } else {
          errors.push({ tokenId, code: outcome.code, message: outcome.message });
        }
      });
      if (stop !== undefined && fresh === 0 && timeouts === 0) {
        // Nothing was written: the whole request can be retried as it is.
        throw stop;
      }
      const result: BulkFireResult = {
        matched: succeededIds.length + errors.length,
        succeeded: succeededIds.length,
        failed: errors.length,
        replayed,
        succeededIds,
        errors,
        ...(version !== undefined ? { version } : {}),
        truncated: nextCursor !== undefined,
        ...(nextCursor !== undefined
          ? { nextCursor: encodeCursor(cursorList(workflowId, transition), nextCursor) }
          : {}),
      };
      req.log.info(
        {
          workflowId,
          transition,
          matched: result.matched,
          succeeded: result.succeeded,
          failed: result.failed,
          replayed,
          truncated: result.truncated,
          aborted,
        },
        'bulk fire',
      );
      return reply.send(result);
    },
  );
};

interface Scope {
  /** Places whose tokens are fired. */
  places: Set<string>;
  /** Places the transition leads to (in any considered version). */
  targets: string[];
}

/**
 * Validate the transition and place against the definition versions (newest `MAX_VERSIONS`):
 * tokens fire against the version they are pinned to, so a transition or `from` place of any of
 * them counts.
 */
async function resolveScope(
  reads: Reads,
  tenant: string,
  workflowId: string,
  transition: string,
  place: string | undefined,
): Promise<Scope> {
  const latest = await reads.workflow(tenant, workflowId);
  const older: Array<Promise<WorkflowResource | null>> = [];
  for (let v = latest.version - 1; v >= 1 && v > latest.version - MAX_VERSIONS; v--) {
    older.push(
      reads.workflow(tenant, workflowId, v).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'WORKFLOW_NOT_FOUND') return null;
        throw err;
      }),
    );
  }
  const versions = [latest, ...(await Promise.all(older)).filter((w) => w !== null)];
  const declared = new Set<string>();
  const from = new Set<string>();
  const targets = new Set<string>();
  for (const definition of versions) {
    for (const p of definition.places) declared.add(p);
    for (const t of definition.transitions) {
      if (t.id !== transition) continue;
      for (const p of t.from) from.add(p);
      targets.add(t.to);
    }
  }
  if (place !== undefined && !declared.has(place)) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `place ${place} is not declared by workflow ${workflowId} (places: ${latest.places.join(', ')})`,
      { errors: [{ path: 'body/place', message: 'is not a place of the workflow' }] },
    );
  }
  if (from.size === 0) {
    throw new ApiError(
      'TRANSITION_NOT_ENABLED',
      `workflow ${workflowId} has no transition ${transition}; nothing was fired`,
      { transition, transitions: latest.transitions.map((t) => t.id) },
    );
  }
  if (place !== undefined && !from.has(place)) {
    throw new ApiError(
      'TRANSITION_NOT_ENABLED',
      `transition ${transition} cannot fire from ${place} (it fires from ${[...from].sort().join(', ')}); nothing was fired`,
      { transition, place, from: [...from].sort() },
    );
  }
  return {
    places: place !== undefined ? new Set([place]) : from,
    targets: [...targets].sort(),
  };
}

function cursorList(workflowId: string, transition: string): string {
  return `bulk-fire:${workflowId}:${transition}`;
}

function decodeBulkCursor(
  workflowId: string,
  transition: string,
  cursor: string | undefined,
): string | undefined {
  try {
    return decodeCursor(cursorList(workflowId, transition), cursor, 'id');
  } catch {
    throw new ApiError(
      'VALIDATION_ERROR',
      'cursor is not valid here: pass the nextCursor of a bulk-fire of this workflow and transition unchanged',
      {
        errors: [{ path: 'body/cursor', message: 'is not a bulk-fire cursor of this transition' }],
      },
    );
  }
}

/** The per-token Idempotency-Key: a digest of the request's key and the token id. */
export function tokenKey(key: string, tokenId: string): string {
  return `bf-${createHash('sha256').update(`bulk-fire\u0000${key}\u0000${tokenId}`).digest('base64url')}`;
}

/** Typed equality on top-level keys; a missing key never matches. */
export function matchesFilter(token: Token, filter: BulkFireFilter | undefined): boolean {
  return (
    matchesEntries(token.metadata, filter?.metadata) && matchesEntries(token.data, filter?.data)
  );
}

function matchesEntries(
  object: Record<string, unknown>,
  wanted: Record<string, Scalar> | undefined,
): boolean {
  if (wanted === undefined) return true;
  for (const [k, v] of Object.entries(wanted)) {
    if (!Object.hasOwn(object, k) || object[k] !== v) return false;
  }
  return true;
}

/**
 * The metadata filter as the read model's text comparison: it keeps a superset of the typed
 * matches (equal scalars have equal text), so fewer tokens come back to be checked here.
 */
function textFilter(metadata: Record<string, Scalar> | undefined): Map<string, string> | undefined {
  if (metadata === undefined || Object.keys(metadata).length === 0) return undefined;
  return new Map(Object.entries(metadata).map(([k, v]) => [k, String(v)]));
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
