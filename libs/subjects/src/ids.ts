/** Ids become subject tokens and KV key parts: no dots, spaces or wildcards. */
export const SUBJECT_SAFE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const SUBJECT_SAFE_ID = new RegExp(SUBJECT_SAFE_ID_PATTERN);

/** Tenants: one subject token and the first part of every read-model key. */
export const TENANT_PATTERN = '^[a-z0-9_-]{1,32}$';
const TENANT = new RegExp(TENANT_PATTERN);
/** The tenant the root credential acts in, and where data from before tenants lives. */
export const DEFAULT_TENANT = 'default';

/** A deployment prefix is one subject token and part of bucket names. */
const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
/** JetStream stream names: no dots, spaces, wildcards or path separators. */
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidNameError extends Error {
  readonly code = 'INVALID_NAME';
  constructor(
    readonly kind: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`invalid ${kind} ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'InvalidNameError';
  }
}

export function isSubjectSafeId(value: unknown): value is string {
  return typeof value === 'string' && SUBJECT_SAFE_ID.test(value);
}

export function assertSubjectSafeId(kind: string, value: unknown): asserts value is string {
  if (!isSubjectSafeId(value)) {
    throw new InvalidNameError(kind, value, '1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
}

export function isTenant(value: unknown): value is string {
  return typeof value === 'string' && TENANT.test(value);
}

export function assertTenant(value: unknown): asserts value is string {
  if (!isTenant(value)) {
    throw new InvalidNameError('tenant', value, '1-32 characters of a-z, 0-9, _ or -');
  }
}

export function assertPrefix(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !PREFIX.test(value)) {
    throw new InvalidNameError('subject prefix', value, '1-32 characters of A-Z, a-z, 0-9, _ or -');
  }
}

export function assertStreamName(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !STREAM_NAME.test(value)) {
    throw new InvalidNameError('stream name', value, '1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
}

export function assertPartitionCount(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1024) {
    throw new InvalidNameError('partition count', value, 'an integer from 1 to 1024');
  }
}
