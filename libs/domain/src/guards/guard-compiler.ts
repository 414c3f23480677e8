import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { type GuardFailure, type GuardSchema, type JsonObject, MAX_JSON_DEPTH } from '@cb/schemas';
import { jsonDepthExceeds } from '../json';
import { toGuardFailures } from './guard-failures';

/**
 * Ajv compiles recursively, so a hostile guard must be shallow enough before it gets there.
 * Reaching a field at the deepest allowed data level takes two schema levels per data level
 * (`properties`, name); the factor 4 leaves room for combinators and `$defs`.
 */
export const MAX_GUARD_DEPTH = 4 * MAX_JSON_DEPTH;

/** What a guard sees: the token's data and metadata. */
export interface GuardInput {
  data: JsonObject;
  metadata: JsonObject;
}

/** A compiled guard: `[]` when it passes, otherwise every failure Ajv reports. */
export type GuardCheck = (input: GuardInput) => GuardFailure[];

/**
 * - `strict` for schema keywords: an unknown keyword or format is a typo, and a typo in a guard
 *   must fail at definition time instead of silently passing every token.
 * - `strictTypes`/`strictTuples`/`strictRequired` off: they reject legitimate, loosely written
 *   schemas.
 * - `ownProperties`: inherited names (`constructor`, `toString`) never satisfy `required`.
 * - No `loadSchema`: a remote `$ref` cannot resolve and fails compilation (no I/O).
 * - No `useDefaults`/`coerceTypes`/`removeAdditional`: guards never modify the token.
 */
function newAjv(validateSchema: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    ownProperties: true,
    logger: false,
    validateSchema,
  });
  addFormats(ajv);
  return ajv;
}

// Checking a schema against the meta-schema costs ~40 ms per Ajv instance (the meta-schema is
// compiled first), against ~1 ms to compile a guard. So one shared instance, which never holds
// a guard, does that check for every workflow; it is pure memoisation.
let metaAjv: Ajv2020 | undefined;

function assertValidSchema(schema: GuardSchema): void {
  metaAjv ??= newAjv(true);
  if (metaAjv.validateSchema(schema) !== true) {
    throw new Error(
      `schema is invalid: ${metaAjv.errorsText(metaAjv.errors, { dataVar: 'guard' })}`,
    );
  }
}

/**
 * One Ajv instance per workflow definition version: guards of one definition share it (so a
 * guard may `$ref` an `$id` declared by an earlier guard, and two guards may not declare the same
 * `$id`); different definitions never see each other's schemas. The returned function throws
 * when a guard does not compile.
 */
export function createGuardCompiler(): (schema: GuardSchema) => GuardCheck {
  const ajv = newAjv(false);
  return (schema) => {
    if (jsonDepthExceeds(schema, MAX_GUARD_DEPTH)) {
      throw new Error(`guard nests deeper than ${MAX_GUARD_DEPTH} levels`);
    }
    assertValidSchema(schema);
    const validate: ValidateFunction = ajv.compile(schema);
    // An async validator returns a Promise, which is truthy: it would pass every token.
    if ('$async' in validate && validate.$async === true) {
      throw new Error('async guards ($async) are not supported');
    }
    return (input) => (validate(input) ? [] : toGuardFailures(validate.errors ?? []));
  };
}
