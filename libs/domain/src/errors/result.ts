import { type DomainError } from './domain-error';

/** The decider's answer: a value, or the coded reason there is none. Expected failures are not thrown. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: DomainError): Result<T> {
  return { ok: false, error };
}
