import { isSubjectSafeId } from '@cb/subjects';
import { ApiError } from '../api-error';

/** Items a list field answers by default, and at most (`first`). */
export const DEFAULT_FIRST = 50;
export const MAX_FIRST = 500;

function invalid(path: string, message: string): ApiError {
  return new ApiError('VALIDATION_ERROR', `${path} ${message}`, { errors: [{ path, message }] });
}

/** `first`: 1 to MAX_FIRST, DEFAULT_FIRST when absent. */
export function firstOf(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    throw invalid('first', `must be an integer from 1 to ${MAX_FIRST}`);
  }
  return first;
}

/** `minSeq`: a stream sequence, 0 or more; absent: no wait. */
export function minSeqOf(minSeq: number | null | undefined): number | undefined {
  if (minSeq === null || minSeq === undefined) return undefined;
  if (!Number.isInteger(minSeq) || minSeq < 0) throw invalid('minSeq', 'must be an integer ≥ 0');
  return minSeq;
}

/** An id argument: the same rules as ids in REST paths (subject-safe, at most 64 characters). */
export function idOf(name: string, value: string): string {
  if (!isSubjectSafeId(value)) {
    throw invalid(name, 'must be 1 to 64 letters, digits, `_` or `-`');
  }
  return value;
}

/** `after`: the id of the last item of the previous page. */
export function afterOf(after: string | null | undefined): string | undefined {
  if (after === null || after === undefined) return undefined;
  return idOf('after', after);
}

/** Drops null members (GraphQL's "absent" for optional input fields). */
export function defined<T extends Record<string, unknown>>(
  input: T,
): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== null && v !== undefined),
  ) as { [K in keyof T]?: Exclude<T[K], null> };
}
