/**
 * What changed between two JSON values, as a flat list of JSON Pointer paths: the token page's
 * history shows it for every event (the state an event carries against the one before it), so a
 * reader sees "/data/total 24.9 → 30" instead of two documents to compare by eye.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Change {
  /** JSON Pointer (RFC 6901) of the value that changed, e.g. `/data/items/0/qty`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: Json;
  after?: Json;
}

/** At most this many changes are listed; the rest is summarised by the caller. */
export const MAX_CHANGES = 200;

/** `~` and `/` escaped as RFC 6901 says. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The changes from `before` to `after`, objects compared key by key (in `after`'s key order, then
 * removed keys), arrays index by index; a change of type is one change of the whole value.
 * Bounded: at most `limit` changes, and nesting deeper than 64 levels is compared as a whole.
 */
export function diffJson(
  before: Json | undefined,
  after: Json | undefined,
  base = '',
  limit = MAX_CHANGES,
): Change[] {
  const out: Change[] = [];
  walk(before, after, base, 0, out, limit);
  return out;
}

function walk(
  before: Json | undefined,
  after: Json | undefined,
  path: string,
  depth: number,
  out: Change[],
  limit: number,
): void {
  if (out.length >= limit) return;
  if (before === undefined && after === undefined) return;
  if (before === undefined) {
    out.push({ path, kind: 'added', after: after as Json });
    return;
  }
  if (after === undefined) {
    out.push({ path, kind: 'removed', before });
    return;
  }
  if (depth < 64 && isObject(before) && isObject(after)) {
    for (const key of Object.keys(after)) {
      walk(
        Object.hasOwn(before, key) ? before[key] : undefined,
        after[key],
        `${path}/${pointerSegment(key)}`,
        depth + 1,
        out,
        limit,
      );
    }
    for (const key of Object.keys(before)) {
      if (!Object.hasOwn(after, key)) {
        walk(before[key], undefined, `${path}/${pointerSegment(key)}`, depth + 1, out, limit);
      }
    }
    return;
  }
  if (depth < 64 && Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) walk(before[i], after[i], `${path}/${i}`, depth + 1, out, limit);
    return;
  }
  if (!sameJson(before, after)) out.push({ path, kind: 'changed', before, after });
}

/** Deep equality of JSON values (key order does not matter). */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]))
    );
  }
  return false;
}

/** A value as one short line for the timeline (long values are cut). */
export function shortJson(value: Json | undefined, max = 80): string {
  if (value === undefined) return '—';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
