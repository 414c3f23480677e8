import type { BulkFireFilter, Token } from '@cb/schemas';
import { ApiError } from '../api-error';
import { decodeCursor } from '../read/cursor';
import type { Reads } from '../read/reads';
import type { Scope } from './scope';

/** Page size of the place-index listing. */
const PAGE = 1000;
/** Tokens read from the indexes per request, beyond each listing's first page (about). */
const MAX_EXAMINED = 50_000;
/** More places than this are listed from the workflow's whole list instead of one list each. */
const MAX_PLACE_LISTINGS = 8;

type Scalar = string | number | boolean;
/** `fire`: in a place the transition fires from. `replay`: already moved by this transition. */
export type Kind = 'fire' | 'replay';

export interface CandidateQuery {
  tenant: string;
  workflowId: string;
  transition: string;
  scope: Scope;
  filter: BulkFireFilter | undefined;
  /** The request's Idempotency-Key: with one, tokens it may have moved already are replayed. */
  key: string | undefined;
  /** Tokens moved before this time (ms) are past the idempotency window: never replayed. */
  since: number;
  /** Start strictly after this token id (the request's cursor). */
  after: string | undefined;
  limit: number;
  minSeq: number | undefined;
}

export interface Candidates {
  /** The tokens to fire (or replay), in token-id order, at most `limit`. */
  batch: string[];
  kinds: ReadonlyMap<string, Kind>;
  /** Where the next request continues (a token id), or undefined when every token was listed. */
  nextAfter: string | undefined;
}

/** Candidates in token-id order, up to `limit`, with bounded work (the place index, paged). */
export async function listCandidates(reads: Reads, q: CandidateQuery): Promise<Candidates> {
  const { scope, key, transition, workflowId, filter } = q;
  const replayPlaces = key === undefined ? [] : scope.targets.filter((p) => !scope.places.has(p));
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
      Date.parse(last.at) >= q.since
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
    let from = q.after;
    let found = 0;
    for (;;) {
      const page = await reads.tokens({
        tenant: q.tenant,
        workflowId,
        ...(listPlace !== undefined ? { place: listPlace } : {}),
        ...(prefilter !== undefined ? { metadata: prefilter } : {}),
        limit: PAGE,
        ...(from !== undefined ? { after: from } : {}),
        ...(q.minSeq !== undefined ? { minSeq: q.minSeq } : {}),
      });
      // A page examines a bounded number of tokens: count what it examined, not what matched.
      examined += PAGE;
      for (const token of page.value.items) {
        const kind = classify(token);
        if (kind === undefined || candidates.get(token.id) === 'fire') continue;
        if (!candidates.has(token.id)) found++;
        candidates.set(token.id, kind);
      }
      if (page.resumeAfter === undefined) break;
      from = page.resumeAfter;
      if (examined >= MAX_EXAMINED || found >= q.limit) {
        // This listing stops here: only ids up to `from` are known in every listing.
        bound = bound === undefined || from < bound ? from : bound;
        break;
      }
    }
  }
  const eligible = [...candidates.keys()]
    .filter((id) => bound === undefined || id <= bound)
    .sort(byId);
  const batch = eligible.slice(0, q.limit);
  return { batch, kinds: candidates, nextAfter: eligible.length > q.limit ? batch.at(-1) : bound };
}

/** The list a bulk-fire cursor belongs to: one workflow and transition. */
export function cursorList(workflowId: string, transition: string): string {
  return `bulk-fire:${workflowId}:${transition}`;
}

/** The token id a bulk-fire cursor continues after (400 for a cursor of anything else). */
export function decodeBulkCursor(
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
