import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// RFC 3339 date-time, the shape `Date.prototype.toISOString` produces (offsets allowed).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set(
    'date-time',
    (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)),
  );
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface Validator<T extends TSchema> {
  check(value: unknown): value is Static<T>;
  /** At most `limit` issues, paths as JSON Pointers. */
  errors(value: unknown, limit?: number): ValidationIssue[];
}

/** Compile a schema once; use the result on hot paths (NATS payloads, events). */
export function compileValidator<T extends TSchema>(schema: T): Validator<T> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<T> => compiled.Check(value),
    errors(value, limit = 20) {
      const out: ValidationIssue[] = [];
      for (const e of compiled.Errors(value)) {
        out.push({ path: e.path || '/', message: e.message });
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}
