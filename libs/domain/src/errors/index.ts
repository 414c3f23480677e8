export { DomainError, validationError } from './domain-error';
export { ok, fail, type Result } from './result';
