import {
  compileValidator,
  type FieldError,
  type Validator,
  WorkflowDefinitionInput,
} from '@cb/schemas';
import { type DomainError, validationError } from '../errors';
import { guardLimitErrors } from '../guards';
import { timedTransitionErrors } from '../timers';

// Compiled on first use, then reused.
let shape: Validator<typeof WorkflowDefinitionInput> | undefined;

/** Shape problems beyond this many are not worth listing: the input is not a definition. */
const MAX_SHAPE_ERRORS = 100;

/**
 * Every problem with a definition, as ONE error whose `details.errors` lists them all (JSON
 * Pointer paths into the input), or `null` when it is valid. The code is VALIDATION_ERROR, or the
 * guard limit's (`GUARD_TOO_LARGE`, …) when the first problem is one.
 *
 * The TypeBox shape is checked first, because the semantic checks rely on it; callers that have
 * already validated the shape pay one cheap compiled check. Semantic checks: unique place and
 * transition ids, every referenced place declared, no repeated entry in `finalPlaces` or in a
 * transition's `from`, every timed transition's `after` (an ISO 8601 duration from 1 s to 10
 * years) or `at` (a JSON Pointer below `/data/` or `/metadata/`), never both, every guard within
 * the definition-time limits (size, depth, `$ref`s, paths). Whether the guards compile is checked where compiling is bounded in time (the command
 * service's guard pool, with `compileGuards`), not here: compiling costs milliseconds per
 * kilobyte. A caller that compiled them passes `guardErrors` (compileGuards' errors, which include
 * the limit errors): they are reported in place of the limit check, with everything else.
 */
export function validateDefinition(
  input: WorkflowDefinitionInput,
  guardErrors?: readonly FieldError[],
): DomainError | null {
  const shapeErrors = definitionShapeErrors(input);
  const errors = shapeErrors.length > 0 ? shapeErrors : semanticErrors(input, guardErrors);
  if (errors.length === 0) return null;
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return validationError(`workflow definition "${String(input.id)}" is invalid: ${count}`, errors);
}

/** Problems with the definition's shape alone (types, required fields, sizes of lists, ids). */
export function definitionShapeErrors(input: WorkflowDefinitionInput): FieldError[] {
  shape ??= compileValidator(WorkflowDefinitionInput);
  return shape.errors(input, MAX_SHAPE_ERRORS);
}

function semanticErrors(
  input: WorkflowDefinitionInput,
  guardErrors: readonly FieldError[] | undefined,
): FieldError[] {
  const errors: FieldError[] = [];
  const places = new Set(input.places);
  const placeError = (path: string, what: string, place: string): void => {
    if (!places.has(place)) {
      errors.push({ path, message: `${what} "${place}" is not a declared place` });
    }
  };

  errors.push(...duplicates(input.places, '/places', 'place'));
  placeError('/initialPlace', 'initial place', input.initialPlace);
  const finals = input.finalPlaces ?? [];
  finals.forEach((p, i) => placeError(`/finalPlaces/${i}`, 'final place', p));
  errors.push(...duplicates(finals, '/finalPlaces', 'final place'));

  const ids = input.transitions.map((t) => t.id);
  errors.push(...duplicates(ids, '/transitions', 'transition id', '/id'));
  input.transitions.forEach((t, i) => {
    const at = `/transitions/${i}`;
    t.from.forEach((p, k) => placeError(`${at}/from/${k}`, 'source place', p));
    errors.push(...duplicates(t.from, `${at}/from`, 'source place'));
    placeError(`${at}/to`, 'target place', t.to);
    errors.push(...timedTransitionErrors(t, at));
  });
  errors.push(...duplicates(input.searchAttributes ?? [], '/searchAttributes', 'search attribute'));
  errors.push(...(guardErrors ?? guardLimitErrors(input.transitions)));
  return errors;
}

/** Each repeat of an earlier entry, at the repeat's index. */
function duplicates(values: string[], base: string, what: string, suffix = ''): FieldError[] {
  const first = new Map<string, number>();
  const errors: FieldError[] = [];
  values.forEach((value, i) => {
    const earlier = first.get(value);
    if (earlier === undefined) {
      first.set(value, i);
      return;
    }
    errors.push({
      path: `${base}/${i}${suffix}`,
      message: `duplicate ${what} "${value}" (first at ${base}/${earlier}${suffix})`,
    });
  });
  return errors;
}
