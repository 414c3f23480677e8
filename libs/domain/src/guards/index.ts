export {
  compileGuards,
  evaluateGuards,
  evaluateOne,
  guardLimitErrors,
  type CompiledGuards,
} from './compile-guards';
export { type GuardCheck } from './guard-compiler';
export { MAX_GUARD_FAILURES } from './guard-failures';
export {
  MAX_GUARD_BYTES,
  MAX_GUARD_DEPTH,
  MAX_GUARD_PATHS,
  type CodedFieldError,
  type GuardLimitCode,
} from './guard-limits';
export { MAX_UNIQUE_ITEMS } from './unique-items';
export {
  type GuardInput,
  type GuardOutcome,
  type GuardRequest,
  type GuardVerdict,
  type GuardVerdicts,
} from './guard-verdict';
