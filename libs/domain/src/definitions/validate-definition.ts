import {
  compileValidator,
  type FieldError,
  type Validator,
  WorkflowDefinitionInput,
} from '@cb/schemas';
import { type DomainError, validationError } from '../errors';
import { compileGuards } from '../guards';

// Compiled on first use, then reused.
let shape: Validator<typeof WorkflowDefinitionInput> | undefined;

/** Shape problems beyond this many are not worth listing: the input is not a definition. */
const MAX_SHAPE_ERRORS = 100;

/**
 * Every problem with a definition, as ONE VALIDATION_ERROR whose `details.errors` lists them all
 * (JSON Pointer paths into the input), or `null` when it is valid.
 *
 * The TypeBox shape is checked first, because the semantic checks rely on it; callers that have
 * already validated the shape pay one cheap compiled check. Semantic checks: unique place and
 * transition ids, every referenced place declared, no repeated entry in `finalPlaces` or in a
 * transition's `from`, every guard compiles (same Ajv set-up as `compileWorkflow`).
 */
export function validateDefinition(input: WorkflowDefinitionInput): DomainError | null {
  shape ??= compileValidator(WorkflowDefinitionInput);
  const shapeErrors = shape.errors(input, MAX_SHAPE_ERRORS);
  const errors = shapeErrors.length > 0 ? shapeErrors : semanticErrors(input);
  if (errors.length === 0) return null;
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return validationError(`workflow definition "${String(input.id)}" is invalid: ${count}`, errors);
}

function semanticErrors(input: WorkflowDefinitionInput): FieldError[] {
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
  });
  errors.push(...compileGuards(input.transitions).errors);
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
