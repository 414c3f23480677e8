import { type FieldError, type GuardSchema, MAX_JSON_DEPTH } from '@cb/schemas';
import { escapePointerToken, jsonDepthExceeds } from '../json';

/**
 * Definition-time bounds on a guard, checked before Ajv ever sees it, so that compiling and
 * evaluating a guard costs time proportional to the guard and the data, never exponential:
 * - its JSON text is at most MAX_GUARD_BYTES;
 * - it nests at most MAX_GUARD_DEPTH levels (reaching a field at the deepest data level takes two
 *   schema levels per data level, `properties` and the name; the factor 4 leaves room for
 *   combinators and `$defs`);
 * - every `$ref` is a JSON Pointer into the same guard (`#`, `#/$defs/x`) that resolves, and no
 *   chain of `$ref`s leads back to where it started (a cycle recurses forever: `{"$ref":"#"}`);
 *   `$id`, anchors and dynamic references are refused, so this analysis sees every reference;
 * - the guard, with every `$ref` expanded, has at most MAX_GUARD_PATHS paths from its root to a
 *   leaf schema: a chain of `anyOf`s that each reference the next twice doubles per link, and Ajv
 *   (reporting all errors) evaluates every path.
 */
export const MAX_GUARD_BYTES = 32 * 1024;
export const MAX_GUARD_DEPTH = 4 * MAX_JSON_DEPTH;
export const MAX_GUARD_PATHS = 1000;

export type GuardLimitCode =
  | 'GUARD_TOO_LARGE'
  | 'GUARD_TOO_DEEP'
  | 'GUARD_REF_CYCLE'
  | 'GUARD_REF_UNSUPPORTED'
  | 'GUARD_TOO_MANY_PATHS';

export type CodedFieldError = FieldError & { code: GuardLimitCode | 'GUARD_PATTERN_UNSUPPORTED' };

/** Keywords whose value is one subschema. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'additionalItems',
  'items',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];
/** Keywords whose value is an array of subschemas (`items` in its draft-07 array form too). */
const ARRAY_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** Keywords whose value maps names to subschemas. `$defs` are reached only through `$ref`. */
const MAP_KEYWORDS = ['properties', 'patternProperties', 'dependentSchemas'];
/** Reference and identifier keywords this analysis cannot follow. */
const UNSUPPORTED_KEYWORDS = [
  '$id',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$recursiveRef',
  '$recursiveAnchor',
];

/** A limit a guard breaks, or null. `at` is the guard's own JSON Pointer in the definition. */
export function guardLimitError(guard: GuardSchema, at: string): CodedFieldError | null {
  // Depth first: everything after it recurses.
  if (jsonDepthExceeds(guard, MAX_GUARD_DEPTH)) {
    return {
      path: at,
      code: 'GUARD_TOO_DEEP',
      message: `the guard nests deeper than ${MAX_GUARD_DEPTH} levels`,
    };
  }
  const bytes = JSON.stringify(guard).length;
  if (bytes > MAX_GUARD_BYTES) {
    return {
      path: at,
      code: 'GUARD_TOO_LARGE',
      message: `the guard is ${bytes} bytes of JSON; at most ${MAX_GUARD_BYTES} are allowed`,
    };
  }
  return new PathCounter(guard, at).check();
}

class LimitBroken extends Error {
  constructor(readonly error: CodedFieldError) {
    super(error.message);
  }
}

/** Counts root-to-leaf paths with every `$ref` expanded, memoised per subschema; finds cycles. */
class PathCounter {
  private readonly memo = new Map<object, number>();
  private readonly active = new Set<object>();

  constructor(
    private readonly root: GuardSchema,
    private readonly at: string,
  ) {}

  check(): CodedFieldError | null {
    try {
      const paths = this.paths(this.root, '');
      if (paths > MAX_GUARD_PATHS) return this.tooManyPaths();
      return null;
    } catch (err) {
      if (err instanceof LimitBroken) return err.error;
      throw err;
    }
  }

  /** `pointer`: where the schema is in the guard; `via`: the `$ref` that led to it, if one did. */
  private paths(schema: unknown, pointer: string, via?: string): number {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return 1;
    const known = this.memo.get(schema);
    if (known !== undefined) return known;
    const node = schema as Record<string, unknown>;
    if (this.active.has(schema)) {
      throw this.broken(
        'GUARD_REF_CYCLE',
        via ?? pointer,
        `this $ref leads back to ${JSON.stringify(`#${pointer}`)}, which contains it: the guard would recurse forever`,
      );
    }
    this.active.add(schema);
    let total = 0;
    const add = (child: unknown, childPointer: string, childVia?: string): void => {
      total += this.paths(child, childPointer, childVia);
      // Stop as soon as the bound is passed: the count itself can be exponential.
      if (total > MAX_GUARD_PATHS) throw new LimitBroken(this.tooManyPaths());
    };
    for (const keyword of UNSUPPORTED_KEYWORDS) {
      if (keyword in node) {
        throw this.broken(
          'GUARD_REF_UNSUPPORTED',
          `${pointer}/${keyword}`,
          `${keyword} is not supported in guards: $ref may only point inside the same guard (#/…)`,
        );
      }
    }
    if ('$ref' in node) {
      const ref = `${pointer}/$ref`;
      const target = this.resolve(node.$ref, ref);
      add(target.schema, target.pointer, ref);
    }
    for (const keyword of SCHEMA_KEYWORDS) {
      if (keyword in node && !Array.isArray(node[keyword])) {
        add(node[keyword], `${pointer}/${keyword}`);
      }
    }
    for (const keyword of ARRAY_KEYWORDS) {
      const list = node[keyword];
      if (Array.isArray(list)) list.forEach((s, i) => add(s, `${pointer}/${keyword}/${i}`));
    }
    for (const keyword of MAP_KEYWORDS) {
      const map = node[keyword];
      if (map !== null && typeof map === 'object' && !Array.isArray(map)) {
        for (const [name, s] of Object.entries(map))
          add(s, `${pointer}/${keyword}/${escapePointerToken(name)}`);
      }
    }
    this.active.delete(schema);
    const result = Math.max(1, total);
    this.memo.set(schema, result);
    return result;
  }

  /** The subschema a `$ref` names: `#` or `#/json/pointer` (URI-encoded) within this guard. */
  private resolve(ref: unknown, pointer: string): { schema: unknown; pointer: string } {
    const unsupported = (why: string) =>
      this.broken('GUARD_REF_UNSUPPORTED', pointer, `$ref ${JSON.stringify(ref)} ${why}`);
    if (typeof ref !== 'string' || !ref.startsWith('#')) {
      throw unsupported('must point inside the same guard (#/…)');
    }
    let fragment: string;
    try {
      fragment = decodeURIComponent(ref.slice(1));
    } catch {
      throw unsupported('is not a valid URI fragment');
    }
    if (fragment !== '' && !fragment.startsWith('/')) {
      throw unsupported('must be a JSON Pointer (anchors are not supported)');
    }
    let target: unknown = this.root;
    for (const raw of fragment === '' ? [] : fragment.slice(1).split('/')) {
      const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (target === null || typeof target !== 'object' || !Object.hasOwn(target, token)) {
        throw unsupported('does not resolve inside the guard');
      }
      target = (target as Record<string, unknown>)[token];
    }
    if (typeof target !== 'boolean' && (target === null || typeof target !== 'object')) {
      throw unsupported('does not point at a schema');
    }
    return { schema: target, pointer: fragment };
  }

  private tooManyPaths(): CodedFieldError {
    return {
      path: this.at,
      code: 'GUARD_TOO_MANY_PATHS',
      message: `the guard has more than ${MAX_GUARD_PATHS} paths from its root to a leaf schema once every $ref is expanded`,
    };
  }

  private broken(code: GuardLimitCode, pointer: string, message: string): LimitBroken {
    return new LimitBroken({ path: `${this.at}${pointer}`, code, message });
  }
}
