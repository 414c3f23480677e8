import { isSubjectSafeId } from '@cb/subjects';
import { ApiError } from '../api-error';

/**
 * What the last key of a list is: an id (token and workflow lists, bulk-fire) or a stream seq
 * (history). A cursor's key is checked against it, so a tampered cursor is a 400, never a NATS
 * error or a silent restart from the beginning.
 */
export type CursorKey = 'id' | 'seq';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SEQ = /^[1-9][0-9]{0,15}$/;
/** Snapshot ids of cursors issued by earlier versions (9 random bytes, base64url): ignored. */
const SNAPSHOT_ID = /^[A-Za-z0-9_-]{12}$/;

/**
 * Opaque page cursors: base64url JSON naming the list they belong to and the last key served.
 * Lists are ordered by key, so a page starts strictly after the cursor's key: an item that stays
 * is served exactly once however the others move, and an unknown or foreign cursor is a 400.
 */
export function encodeCursor(list: string, after: string): string {
  const c = { l: list, a: after };
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(
  list: string,
  cursor: string | undefined,
  key: CursorKey,
): string | undefined {
  return parseCursor(list, cursor, key)?.after;
}

/** The cursor's last key. */
export function parseCursor(
  list: string,
  cursor: string | undefined,
  key: CursorKey,
): { after: string } | undefined {
  if (cursor === undefined) return undefined;
  const c = BASE64URL.test(cursor) ? decoded(cursor) : undefined;
  if (
    !c ||
    c.l !== list ||
    typeof c.a !== 'string' ||
    !(key === 'id' ? isSubjectSafeId(c.a) : isSeq(c.a)) ||
    (c.s !== undefined && !(typeof c.s === 'string' && SNAPSHOT_ID.test(c.s))) ||
    Object.keys(c).some((k) => k !== 'l' && k !== 'a' && k !== 's')
  ) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'cursor is not valid for this list: pass the nextCursor of the previous page unchanged',
      { errors: [{ path: 'querystring/cursor', message: 'is not a cursor of this list' }] },
    );
  }
  return { after: c.a };
}

function decoded(cursor: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A positive safe integer in its plain decimal form. */
function isSeq(text: string): boolean {
  return SEQ.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER;
}
