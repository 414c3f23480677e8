import type { GuardSchema, WorkflowDefinitionInput } from '@cb/schemas';

/**
 * Guards an attacker would define (issue 10, "What was measured"), for tests and benchmarks.
 * Each is a guard on `{ data, metadata }`.
 */

/** `^(a+)+$` on `data.s`: exponential in a backtracking engine, linear on RE2. */
export const REDOS_GUARD: GuardSchema = {
  properties: { data: { properties: { s: { type: 'string', pattern: '^(a+)+$' } } } },
};
/** 36 × `a` then `!`: ~30 minutes of backtracking for `^(a+)+$`. */
export const REDOS_INPUT = `${'a'.repeat(36)}!`;

/** A `$defs` chain where each link is `anyOf` two references to the next: 2^links paths. */
export function doublingChainGuard(links: number): GuardSchema {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < links; i++) {
    defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  }
  defs[`d${links}`] = { type: 'string', minLength: 5 };
  return { $defs: defs, properties: { data: { properties: { x: { $ref: '#/$defs/d0' } } } } };
}

/**
 * Within every definition-time limit (26 KiB, 1000 paths, linear-time patterns), and a guard that
 * passes — yet seconds of CPU on HOSTILE_DATA: every one of 5000 items is matched against 1000
 * patterns. Only the time budget stops it.
 */
export const HOSTILE_GUARD: GuardSchema = {
  properties: {
    data: {
      properties: {
        xs: { items: { allOf: Array.from({ length: 1000 }, () => ({ pattern: '^(?:xx|x)*$' })) } },
      },
    },
  },
};
/** The data HOSTILE_GUARD chews on: 5000 × 40 `x` (215 KB of JSON: fits a 256 KiB body). */
export const HOSTILE_DATA = { xs: Array.from({ length: 5000 }, () => 'x'.repeat(40)) };
/** Data on which HOSTILE_GUARD is cheap (and passes). */
export const HOSTILE_GUARD_CHEAP_DATA = { xs: ['xx'] };

/** A two-place workflow whose one transition `go` has `guard`. */
export function guardedWorkflow(id: string, guard: GuardSchema): WorkflowDefinitionInput {
  return {
    id,
    name: id,
    places: ['start', 'end'],
    initialPlace: 'start',
    finalPlaces: ['end'],
    transitions: [{ id: 'go', from: ['start'], to: 'end', guard }],
  };
}

/**
 * A ping-pong: `hit` moves a token from `ping` to `pong`, `back` returns it, so one token can fire
 * forever. With `guard`, both transitions have it.
 */
export function pingPongWorkflow(id: string, guard?: GuardSchema): WorkflowDefinitionInput {
  const g = guard === undefined ? {} : { guard };
  return {
    id,
    name: 'ping-pong',
    places: ['ping', 'pong'],
    initialPlace: 'ping',
    transitions: [
      { id: 'hit', from: ['ping'], to: 'pong', ...g },
      { id: 'back', from: ['pong'], to: 'ping', ...g },
    ],
  };
}
