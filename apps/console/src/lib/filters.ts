/**
 * The place page's filter: rows of `metadata.<key> = value` / `data.<key> = value`, turned into
 * the search query (`GET /v1/tokens?metadata.k=v`, compared as text) and into the bulk-fire
 * filter (`{ metadata: { k: v } }`, compared with its type). A value written as JSON (`1`,
 * `true`, `"1"`) is that JSON value for the bulk fire; anything else is text.
 */

export type FilterScope = 'metadata' | 'data';

export interface FilterRow {
  scope: FilterScope;
  key: string;
  value: string;
}

type Scalar = string | number | boolean;

export interface BulkFilter {
  metadata?: Record<string, Scalar>;
  data?: Record<string, Scalar>;
}

/** The search route's key pattern (`metadata\.[A-Za-z0-9_.-]{1,128}`). */
const KEY = /^[A-Za-z0-9_.-]{1,128}$/;
/** Both routes' bounds: values up to 1024 characters, 16 keys per scope in a bulk fire. */
export const MAX_VALUE_LENGTH = 1024;
export const MAX_KEYS_PER_SCOPE = 16;

export interface FilterProblem {
  row: number;
  message: string;
}

/** What is wrong with the rows (empty rows, with neither key nor value, are ignored). */
export function filterProblems(rows: readonly FilterRow[]): FilterProblem[] {
  const problems: FilterProblem[] = [];
  const seen = new Set<string>();
  const perScope: Record<FilterScope, number> = { metadata: 0, data: 0 };
  rows.forEach((row, i) => {
    if (isEmpty(row)) return;
    if (!KEY.test(row.key)) {
      problems.push({ row: i, message: 'key: 1–128 characters of A-Z, a-z, 0-9, _ . -' });
      return;
    }
    if (row.value.length > MAX_VALUE_LENGTH) {
      problems.push({ row: i, message: `value: at most ${MAX_VALUE_LENGTH} characters` });
    }
    const id = `${row.scope}.${row.key}`;
    if (seen.has(id)) problems.push({ row: i, message: `${id} is already filtered` });
    seen.add(id);
    if (++perScope[row.scope] > MAX_KEYS_PER_SCOPE) {
      problems.push({ row: i, message: `at most ${MAX_KEYS_PER_SCOPE} ${row.scope} keys` });
    }
  });
  return problems;
}

function isEmpty(row: FilterRow): boolean {
  return row.key.trim() === '' && row.value === '';
}

/** The search parameters (`metadata.k`, `data.k`) of the rows, in row order. */
export function searchParams(rows: readonly FilterRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of rows) {
    if (isEmpty(row)) continue;
    out[`${row.scope}.${row.key}`] = textOf(row.value);
  }
  return out;
}

/** The bulk-fire filter of the rows, or undefined when there is none. */
export function bulkFilter(rows: readonly FilterRow[]): BulkFilter | undefined {
  const out: BulkFilter = {};
  for (const row of rows) {
    if (isEmpty(row)) continue;
    (out[row.scope] ??= {})[row.key] = typedValue(row.value);
  }
  return out.metadata || out.data ? out : undefined;
}

/** `1` → 1, `true` → true, `"1"` → "1", anything else → the text as written. */
export function typedValue(value: string): Scalar {
  const trimmed = value.trim();
  if (trimmed === '') return value;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'number' || typeof parsed === 'boolean' || typeof parsed === 'string') {
      return parsed;
    }
  } catch {
    // Not JSON: text.
  }
  return value;
}

/** The text the search compares: a quoted JSON string is its content, the rest as written. */
function textOf(value: string): string {
  const typed = typedValue(value);
  return typeof typed === 'string' ? typed : String(typed);
}

/** Rows from the page URL's query (`?metadata.k=v&data.k=v`), so a filtered page can be linked. */
export function rowsFromQuery(query: URLSearchParams): FilterRow[] {
  const rows: FilterRow[] = [];
  for (const [name, value] of query) {
    const dot = name.indexOf('.');
    const scope = name.slice(0, dot);
    if (dot > 0 && (scope === 'metadata' || scope === 'data')) {
      rows.push({ scope, key: name.slice(dot + 1), value });
    }
  }
  return rows;
}
