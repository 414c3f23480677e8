import { jsonDepthExceeds } from '@cb/domain';
import { MAX_JSON_DEPTH } from '@cb/schemas';
import { ApiError } from '../api-error';
import { findForbiddenKeys } from './forbidden-keys';
import { findUnsafeNumbers, type NumberProblem } from './number-scan';

const WHY: Record<NumberProblem['kind'], string> = {
  overflow: 'is too large for a double (it would become Infinity, stored as null)',
  underflow: 'is too small for a double (it would become 0)',
  'unsafe-integer':
    'is an integer beyond ±9007199254740991 (2^53−1) and would lose digits; send it as a string',
};

/**
 * Every JSON body, parsed in one place: bounded in depth, refused with the JSON Pointer of the
 * first offenders when it has a key that could reach a prototype (`__proto__`,
 * `constructor.prototype`) or a number that would not survive as written (see
 * findUnsafeNumbers). Paths are `body` + the pointer, as in validation errors.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw new ApiError('VALIDATION_ERROR', 'the body is empty but the content type is JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError('VALIDATION_ERROR', 'the body is not valid JSON');
  }
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH + 2)) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels in data and metadata`,
    );
  }
  const keys = findForbiddenKeys(text, value);
  if (keys.length > 0) {
    const errors = keys.map(({ pointer, key }) => ({
      path: `body${pointer}`,
      message: `key ${key} is not allowed: it names an object prototype`,
    }));
    throw new ApiError('VALIDATION_ERROR', `${errors[0]!.path}: ${errors[0]!.message}`, {
      errors,
    });
  }
  const numbers = findUnsafeNumbers(text);
  if (numbers.length > 0) {
    const errors = numbers.map((p) => ({
      path: `body${p.pointer}`,
      message: `${p.literal} ${WHY[p.kind]}`,
    }));
    throw new ApiError(
      'NUMBER_OUT_OF_RANGE',
      `${errors[0]!.path}: ${errors[0]!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
      { errors },
    );
  }
  return value;
}
