export {
  GuardPool,
  GuardPoolError,
  definitionKey,
  type CompileResult,
  type GuardPoolOptions,
} from './guard-pool';
export { Quarantine, type QuarantineOptions } from './quarantine';
