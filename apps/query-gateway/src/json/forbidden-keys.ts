import { jsonPointer } from './pointer';

/*
 * The pre-tests secure-json-parse uses (Fastify's JSON parser): a key spelled `__proto__` or
 * `constructor`, escapes included. Bodies without one are not walked at all.
 */
const SUSPECT_PROTO =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const SUSPECT_CONSTRUCTOR =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

export interface ForbiddenKey {
  /** JSON Pointer of the key. */
  pointer: string;
  key: '__proto__' | 'constructor.prototype';
}

interface Node {
  value: unknown;
  segment: string | number;
  parent: Node | undefined;
}

/**
 * The keys that could reach an object's prototype if the document were ever
 * merged into another object: every `__proto__` key and every `constructor` object with a
 * `prototype` key. At most `limit`. `value` is `text` parsed with `JSON.parse` (which keeps such
 * keys as plain own properties).
 */
export function findForbiddenKeys(text: string, value: unknown, limit = 20): ForbiddenKey[] {
  if (!SUSPECT_PROTO.test(text) && !SUSPECT_CONSTRUCTOR.test(text)) return [];
  const found: ForbiddenKey[] = [];
  const stack: Node[] = [{ value, segment: '', parent: undefined }];
  for (let node = stack.pop(); node !== undefined && found.length < limit; node = stack.pop()) {
    const object = node.value;
    if (typeof object !== 'object' || object === null) continue;
    if (Array.isArray(object)) {
      for (let i = object.length - 1; i >= 0; i--) {
        stack.push({ value: object[i], segment: i, parent: node });
      }
      continue;
    }
    const record = object as Record<string, unknown>;
    if (Object.hasOwn(record, '__proto__')) {
      found.push({ pointer: pointerOf(node, ['__proto__']), key: '__proto__' });
    }
    const ctor = Object.hasOwn(record, 'constructor') ? record.constructor : undefined;
    if (typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) {
      found.push({
        pointer: pointerOf(node, ['constructor', 'prototype']),
        key: 'constructor.prototype',
      });
    }
    const keys = Object.keys(record);
    for (let i = keys.length - 1; i >= 0; i--) {
      stack.push({ value: record[keys[i]!], segment: keys[i]!, parent: node });
    }
  }
  return found.slice(0, limit);
}

function pointerOf(node: Node, tail: string[]): string {
  const segments: Array<string | number> = [...tail];
  for (let n: Node | undefined = node; n?.parent !== undefined; n = n.parent) {
    segments.unshift(n.segment);
  }
  return jsonPointer(segments);
}
