import { type FieldError, type TransitionDefinition, type WorkflowDefinition } from '@cb/schemas';
import { parsePointer } from '../json';
import { type Duration, parseDuration } from './duration';

/** A timed transition of one definition version, parsed once. */
export type TimerRule = {
  readonly transition: string;
  readonly from: ReadonlySet<string>;
} & (
  | { readonly kind: 'after'; readonly duration: Duration }
  | { readonly kind: 'at'; readonly pointer: string; readonly tokens: readonly string[] }
);

/** The timed transitions of one definition version: what timers its tokens have. */
export interface TimerRules {
  readonly workflowId: string;
  readonly version: number;
  readonly rules: readonly TimerRule[];
}

/** `at` names a field of the token: one key (or more) below `data` or `metadata`. */
const AT_ROOTS = ['data', 'metadata'];

/**
 * The definition's timed transitions. Definitions are validated with the same parsers when
 * they are defined (`timedTransitionErrors`), so every stored rule parses; one that did not
 * could arm nothing and is left out rather than failing every event of the workflow.
 */
export function timerRules(
  definition: Pick<WorkflowDefinition, 'id' | 'version' | 'transitions'>,
): TimerRules {
  const rules: TimerRule[] = [];
  for (const t of definition.transitions) {
    const from = new Set(t.from);
    if (t.after !== undefined && t.at === undefined) {
      const parsed = parseDuration(t.after);
      if (parsed.ok)
        rules.push({ transition: t.id, from, kind: 'after', duration: parsed.duration });
    } else if (t.at !== undefined && t.after === undefined) {
      const tokens = atTokens(t.at);
      if (tokens) rules.push({ transition: t.id, from, kind: 'at', pointer: t.at, tokens });
    }
  }
  return { workflowId: definition.id, version: definition.version, rules };
}

/**
 * Definition-time problems with a transition's `after` and `at`, at JSON Pointer paths below
 * `path` (the transition's own path in the definition).
 */
export function timedTransitionErrors(t: TransitionDefinition, path: string): FieldError[] {
  if (t.after !== undefined && t.at !== undefined) {
    return [{ path, message: 'a timed transition has `after` or `at`, not both' }];
  }
  const errors: FieldError[] = [];
  if (t.after !== undefined) {
    const parsed = parseDuration(t.after);
    if (!parsed.ok) errors.push({ path: `${path}/after`, message: parsed.message });
  }
  if (t.at !== undefined && atTokens(t.at) === null) {
    errors.push({
      path: `${path}/at`,
      message: `${JSON.stringify(t.at)} is not a JSON Pointer starting with /data/ or /metadata/ (e.g. "/data/publishAt")`,
    });
  }
  return errors;
}

/** The pointer's tokens when it names something below `data` or `metadata`, else `null`. */
function atTokens(pointer: string): string[] | null {
  const tokens = parsePointer(pointer);
  if (tokens === null || tokens.length < 2 || !AT_ROOTS.includes(tokens[0] ?? '')) return null;
  return tokens;
}
