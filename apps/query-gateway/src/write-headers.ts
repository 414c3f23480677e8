import type { CommandRequest, WriteHeaders } from '@cb/schemas';

/** `If-Match: "42"` (also `42`, `W/"42"`) → 42; `*` or absent → no expectation. */
export function expectedVersionOf(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '*') return undefined;
  const digits = ifMatch.replace(/^W\//, '').replace(/"/g, '');
  return Number(digits);
}

/** The optional parts of a command request that come from headers and the body. */
export function requestOptions(
  headers: WriteHeaders,
  triggeredBy: string | undefined,
): Omit<CommandRequest, 'command'> {
  const expectedVersion = expectedVersionOf(headers['if-match']);
  return {
    ...(triggeredBy !== undefined ? { triggeredBy } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    ...(headers['idempotency-key'] !== undefined
      ? { idempotencyKey: headers['idempotency-key'] }
      : {}),
  };
}

export function etag(version: number): string {
  return `"${version}"`;
}

/** Response header of every read: every event with seq ≤ its value is reflected in the body. */
export const asOfHeader = 'x-as-of-seq';
