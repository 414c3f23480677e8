import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { type GuardSchema } from '@cb/schemas';
import { re2RegExp } from './re2-engine';
import { toGuardFailures } from './guard-failures';
import { uniqueItemsKeyword } from './unique-items';
import { type GuardInput, type GuardOutcome } from './guard-verdict';

/** A compiled guard: passed, or its first failures (capped) and how many there were. */
export type GuardCheck = (input: GuardInput) => GuardOutcome;

/**
 * - `strict` for schema keywords: an unknown keyword or format is a typo, and a typo in a guard
 *   must fail at definition time instead of silently passing every token.
 * - `strictTypes`/`strictTuples`/`strictRequired` off: they reject legitimate, loosely written
 *   schemas.
 * - `ownProperties`: inherited names (`constructor`, `toString`) never satisfy `required`.
 * - No `loadSchema`: a remote `$ref` cannot resolve and fails compilation (no I/O).
 * - No `useDefaults`/`coerceTypes`/`removeAdditional`: guards never modify the token.
 * - Regular expressions run on RE2 (linear time); `uniqueItems` is linear and capped.
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
    code: { regExp: re2RegExp },
  });
  addFormats(ajv);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword(uniqueItemsKeyword);
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
 * One Ajv instance per workflow definition version, so different definitions never see each
 * other's schemas. The returned function throws when a guard does not compile (GuardPatternError
 * for a pattern RE2 cannot express). Callers check the definition-time limits (`guardLimitError`)
 * first: they are what bounds compilation.
 */
export function createGuardCompiler(): (schema: GuardSchema) => GuardCheck {
  const ajv = newAjv(false);
  return (schema) => {
    assertValidSchema(schema);
    const validate: ValidateFunction = ajv.compile(schema);
    // An async validator returns a Promise, which is truthy: it would pass every token.
    if ('$async' in validate && validate.$async === true) {
      throw new Error('async guards ($async) are not supported');
    }
    return (input) =>
      validate(input) ? { status: 'passed' } : toGuardFailures(validate.errors ?? []);
  };
}
