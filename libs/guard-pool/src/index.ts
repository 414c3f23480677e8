export {
  GuardPool,
  GuardPoolError,
  definitionKey,
  definitionKeyOf,
  type CompileResult,
  type GuardPoolOptions,
} from './guard-pool';
export { Quarantine, type QuarantineOptions } from './quarantine';
