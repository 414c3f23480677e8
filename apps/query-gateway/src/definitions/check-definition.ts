import { GuardPoolError, type GuardPool } from '@cb/guard-pool';
import { analyzeDefinition, definitionShapeErrors, validateDefinition } from '@cb/domain';
import type { DefinitionCheck, FieldError, WorkflowDefinitionInput } from '@cb/schemas';
import { ApiError } from '../api-error';

/** What checking needs of the guard pool: compiling, as the command service does at define time. */
export type GuardCompiler = Pick<GuardPool, 'compile'>;

/**
 * Check a definition the way `POST /v1/workflows` does, storing nothing: the shape, then the
 * semantic checks of the domain (`validateDefinition`) with the guards compiled in the guard pool
 * (RE2 patterns, the same set-up the command service compiles them with, so a definition this
 * calls valid compiles there too). Only a store-side conflict (the id already taken) is not
 * checked: that belongs to the write.
 *
 * Shape problems come back as the answer's errors, not thrown: an editor sends what it has.
 */
export async function checkDefinition(
  input: Record<string, unknown>,
  guards: GuardCompiler,
  key: string,
): Promise<DefinitionCheck> {
  const definition = input as unknown as WorkflowDefinitionInput;
  const shapeErrors = definitionShapeErrors(definition);
  if (shapeErrors.length > 0) return { valid: false, errors: shapeErrors };

  let guardErrors: FieldError[];
  try {
    const compiled = await guards.compile(definition.transitions, key);
    if ('tooExpensive' in compiled) {
      guardErrors = [
        {
          path: '/transitions',
          message: `the guards cannot be checked: ${compiled.tooExpensive}`,
          code: 'GUARD_TOO_EXPENSIVE',
        },
      ];
    } else {
      guardErrors = compiled.errors;
    }
  } catch (err) {
    if (!(err instanceof GuardPoolError)) throw err;
    throw new ApiError('SERVICE_UNAVAILABLE', err.message, { retryAfterSeconds: 1 });
  }
  const invalid = validateDefinition(definition, guardErrors);
  const errors = invalid === null ? [] : invalidErrors(invalid.details);
  return { valid: errors.length === 0, errors, analysis: analyzeDefinition(definition) };
}

function invalidErrors(details: Record<string, unknown> | undefined): FieldError[] {
  const errors = details?.errors;
  return Array.isArray(errors) ? (errors as FieldError[]) : [];
}
