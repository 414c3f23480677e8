import { type ErrorObject } from 'ajv';
import { type GuardFailure } from '@cb/schemas';
import { escapePointerToken } from '../json';
import { type GuardOutcome } from './guard-verdict';

/** A failing guard reports at most this many failures (and how many there were in all). */
export const MAX_GUARD_FAILURES = 20;

/** Keywords whose failure names a property below `instancePath`, and the param that holds it. */
const PROPERTY_PARAM: ReadonlyMap<string, string> = new Map([
  ['required', 'missingProperty'],
  ['dependentRequired', 'missingProperty'],
  ['additionalProperties', 'additionalProperty'],
  ['unevaluatedProperties', 'unevaluatedProperty'],
]);

/**
 * Ajv errors as a failed outcome: the first MAX_GUARD_FAILURES in Ajv's order (for `anyOf`: each
 * branch's errors, then the `anyOf` error itself) and the count of all. `path` is a JSON Pointer
 * into `{ data, metadata }`: Ajv's `instancePath`, extended with the missing or unexpected
 * property so clients can point at the exact field (`required: ["content"]` on `/data` fails at
 * `/data/content`).
 */
export function toGuardFailures(errors: readonly ErrorObject[]): GuardOutcome {
  return {
    status: 'failed',
    failures: errors.slice(0, MAX_GUARD_FAILURES).map(toFailure),
    failureCount: Math.max(1, errors.length),
  };
}

function toFailure(e: ErrorObject): GuardFailure {
  return {
    path: e.instancePath + propertySuffix(e),
    message: e.message ?? `must pass "${e.keyword}"`,
    keyword: e.keyword,
    schemaPath: e.schemaPath,
  };
}

function propertySuffix(e: ErrorObject): string {
  const param = PROPERTY_PARAM.get(e.keyword);
  const property: unknown =
    param === undefined ? undefined : (e.params as Record<string, unknown>)[param];
  return typeof property === 'string' ? `/${escapePointerToken(property)}` : '';
}
