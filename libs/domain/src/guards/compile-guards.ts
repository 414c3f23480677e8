import { type FieldError, type TransitionDefinition } from '@cb/schemas';
import { createGuardCompiler, type GuardCheck } from './guard-compiler';
import { type CodedFieldError, guardLimitError } from './guard-limits';
import { GuardPatternError } from './re2-engine';
import { type GuardRequest, type GuardVerdict } from './guard-verdict';

export interface CompiledGuards {
  /** Transition id → its compiled guard; transitions without a guard are absent. */
  checks: ReadonlyMap<string, GuardCheck>;
  /** One error per guard that breaks a limit or does not compile, at `/transitions/<i>/guard`. */
  errors: Array<FieldError | CodedFieldError>;
  /** Transition id → why its guard cannot be used (the message of its error). */
  unusable: ReadonlyMap<string, string>;
}

/** Every guard's definition-time limit errors (no compilation: cheap, for the decider). */
export function guardLimitErrors(transitions: readonly TransitionDefinition[]): CodedFieldError[] {
  const errors: CodedFieldError[] = [];
  transitions.forEach((t, i) => {
    if (t.guard === undefined) return;
    const error = guardLimitError(t.guard, `/transitions/${i}/guard`);
    if (error !== null) errors.push(error);
  });
  return errors;
}

/**
 * Check the limits of, then compile, every guard of one definition version with one Ajv instance,
 * in declaration order. The single place guards are compiled, so definition-time validation and
 * evaluation accept and reject exactly the same guards. Compiling costs time (about a millisecond
 * per kilobyte of guard): callers on a shared event loop run it off that loop.
 */
export function compileGuards(transitions: readonly TransitionDefinition[]): CompiledGuards {
  const compile = createGuardCompiler();
  const checks = new Map<string, GuardCheck>();
  const errors: Array<FieldError | CodedFieldError> = [];
  const unusable = new Map<string, string>();
  transitions.forEach((t, i) => {
    if (t.guard === undefined) return;
    const path = `/transitions/${i}/guard`;
    let error: FieldError | CodedFieldError | null = guardLimitError(t.guard, path);
    if (error === null) {
      try {
        checks.set(t.id, compile(t.guard));
      } catch (err) {
        // Ajv's reason, e.g. `strict mode: unknown keyword: "minimun"`.
        const reason = err instanceof Error ? err.message : String(err);
        error =
          err instanceof GuardPatternError
            ? { path, code: 'GUARD_PATTERN_UNSUPPORTED', message: reason }
            : { path, message: `guard does not compile: ${reason}` };
      }
    }
    if (error !== null) {
      errors.push(error);
      unusable.set(t.id, error.message);
    }
  });
  return { checks, errors, unusable };
}

/**
 * Evaluate guards on this thread, with no time budget: for the guard worker (which runs under
 * one) and for tests and tools that decide in-process.
 */
export function evaluateGuards(
  compiled: CompiledGuards,
  requests: readonly GuardRequest[],
): Map<string, GuardVerdict> {
  const verdicts = new Map<string, GuardVerdict>();
  for (const { transition, input } of requests)
    verdicts.set(transition, evaluateOne(compiled, transition, input));
  return verdicts;
}

export function evaluateOne(
  compiled: CompiledGuards,
  transition: string,
  input: GuardRequest['input'],
): GuardVerdict {
  const reason = compiled.unusable.get(transition);
  if (reason !== undefined) {
    return { status: 'too-expensive', message: `the guard cannot be evaluated: ${reason}` };
  }
  const check = compiled.checks.get(transition);
  return check === undefined ? { status: 'passed' } : check(input);
}
