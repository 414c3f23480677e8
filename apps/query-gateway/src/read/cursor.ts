import { ApiError } from '../api-error';

/**
 * Opaque page cursors: base64url JSON naming the list they belong to and the last key served.
 * Lists are ordered by key, so a page starts strictly after the cursor's key: an item that stays
 * is served exactly once however the others move, and an unknown or foreign cursor is a 400.
 */
export function encodeCursor(list: string, after: string, snapshot?: string): string {
  const c = snapshot === undefined ? { l: list, a: after } : { l: list, a: after, s: snapshot };
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(list: string, cursor: string | undefined): string | undefined {
  return parseCursor(list, cursor)?.after;
}

/** The cursor's last key and, for lists served from a snapshot, the snapshot it came from. */
export function parseCursor(
  list: string,
  cursor: string | undefined,
): { after: string; snapshot?: string } | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { l?: unknown; a?: unknown; s?: unknown } | undefined;
  if (
    !c ||
    typeof c !== 'object' ||
    c.l !== list ||
    typeof c.a !== 'string' ||
    c.a === '' ||
    (c.s !== undefined && typeof c.s !== 'string')
  ) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'cursor is not valid for this list: pass the nextCursor of the previous page unchanged',
      { errors: [{ path: 'querystring/cursor', message: 'is not a cursor of this list' }] },
    );
  }
  return typeof c.s === 'string' ? { after: c.a, snapshot: c.s } : { after: c.a };
}
