/** Escape one reference token of a JSON Pointer (RFC 6901 §3: `~` → `~0`, `/` → `~1`). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The reference tokens of a JSON Pointer (RFC 6901), unescaped, or `null` when it is not one:
 * it must be empty or start with `/`, and `~` must be followed by `0` or `1`.
 */
export function parsePointer(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/') || /~(?![01])/.test(pointer)) return null;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The value the pointer's tokens name in `root`, or `undefined` when there is none. Only own
 * properties are followed (`/__proto__` names nothing), and array indexes are RFC 6901's: `0` or
 * digits without a leading zero, inside the array.
 */
export function resolvePointer(root: unknown, tokens: readonly string[]): unknown {
  let node: unknown = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!ARRAY_INDEX.test(token)) return undefined;
      node = node[Number(token)];
    } else if (typeof node === 'object' && node !== null) {
      node = Object.hasOwn(node, token) ? (node as Record<string, unknown>)[token] : undefined;
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,15})$/;
