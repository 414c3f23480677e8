import { RE2JS } from 're2js';

/**
 * A `pattern` (also `patternProperties` and `propertyNames`) that RE2 cannot express: lookaround,
 * backreferences, possessive quantifiers… Refused when the workflow is defined.
 */
export class GuardPatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(
      `pattern ${JSON.stringify(pattern)} is not supported (linear-time RE2 syntax): ${reason}`,
    );
    this.name = 'GuardPatternError';
  }
}

/**
 * Ajv's `code.regExp` engine: RE2 semantics (re2js, a pure-JavaScript port), so matching costs
 * time linear in the input whatever the pattern — `^(a+)+$` cannot backtrack. Ajv keys its
 * per-instance pattern cache by `toString()`.
 */
export function re2RegExp(pattern: string): { test(input: string): boolean; toString(): string } {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (err) {
    throw new GuardPatternError(pattern, err instanceof Error ? err.message : String(err));
  }
  return { test: (input) => compiled.test(input), toString: () => pattern };
}
re2RegExp.code = 're2RegExp';
