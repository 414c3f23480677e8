import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandRequest, WriteHeaders } from '@cb/schemas';
import { principalRefOf } from './auth/principal';
import type { TokenRead } from './read/reads';

/** `If-Match: "42"` (also `42`, `W/"42"`) → 42; `*` or absent → no expectation. */
export function expectedVersionOf(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '*') return undefined;
  const digits = ifMatch.replace(/^W\//, '').replace(/"/g, '');
  return Number(digits);
}

/**
 * Everything of a command request but the command: the principal (from the credential), and
 * what comes from headers and the body.
 */
export function requestOptions(
  req: FastifyRequest,
  headers: WriteHeaders,
  triggeredBy: string | undefined,
): Omit<CommandRequest, 'command'> {
  const expectedVersion = expectedVersionOf(headers['if-match']);
  return {
    principal: principalRefOf(req),
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

const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * Send a token read: ETag = its version, X-As-Of-Seq, and the stored JSON as is when the read
 * model holds exactly the API token (no parse-and-serialise round trip on the hottest read).
 */
export function sendTokenRead(reply: FastifyReply, read: TokenRead): FastifyReply {
  reply.header('etag', etag(read.value.version)).header(asOfHeader, String(read.asOf));
  return read.json ? reply.type(JSON_UTF8).send(read.json) : reply.send(read.value);
}
