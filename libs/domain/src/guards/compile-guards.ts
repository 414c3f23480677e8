import { type FieldError, type TransitionDefinition } from '@cb/schemas';
import { createGuardCompiler, type GuardCheck } from './guard-compiler';

export interface CompiledGuards {
  /** Transition id → its compiled guard; transitions without a guard are absent. */
  checks: ReadonlyMap<string, GuardCheck>;
  /** One error per guard that does not compile, at `/transitions/<index>/guard`. */
  errors: FieldError[];
}

/**
 * Compile every guard of one definition version with one Ajv instance, in declaration order.
 * The single place guards are compiled, so definition-time validation and the runtime cache
 * accept and reject exactly the same guards.
 */
export function compileGuards(transitions: readonly TransitionDefinition[]): CompiledGuards {
  const compile = createGuardCompiler();
  const checks = new Map<string, GuardCheck>();
  const errors: FieldError[] = [];
  transitions.forEach((t, i) => {
    if (t.guard === undefined) return;
    try {
      checks.set(t.id, compile(t.guard));
    } catch (err) {
      // Ajv's reason, e.g. `strict mode: unknown keyword: "minimun"`.
      const reason = err instanceof Error ? err.message : String(err);
      errors.push({
        path: `/transitions/${i}/guard`,
        message: `guard does not compile: ${reason}`,
      });
    }
  });
  return { checks, errors };
}
