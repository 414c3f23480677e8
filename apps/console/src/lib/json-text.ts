/** A JSON object typed into a textarea: parsed before anything is sent, with a readable error. */
export type ParsedObject =
  { ok: true; value: Record<string, unknown> | undefined } | { ok: false; error: string };

/** Most characters the console sends from one editor (the gateway's body limit is larger). */
export const MAX_EDITOR_CHARS = 1_000_000;

/**
 * Parse `text` as a JSON object. Empty text is `undefined` when `optional` (no patch), an error
 * otherwise; arrays, strings and numbers are refused, since every body here is an object.
 */
export function parseJsonObject(text: string, optional = false): ParsedObject {
  if (text.trim() === '') {
    return optional ? { ok: true, value: undefined } : { ok: false, error: 'enter a JSON object' };
  }
  if (text.length > MAX_EDITOR_CHARS) {
    return { ok: false, error: `too long: at most ${MAX_EDITOR_CHARS} characters` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      error: `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'must be a JSON object ({ … })' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Pretty JSON for display and for prefilling editors. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
