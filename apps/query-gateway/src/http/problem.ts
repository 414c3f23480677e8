import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '@cb/schemas';
import { toProblem, type ApiError } from '../api-error';

export const PROBLEM_TYPE = 'application/problem+json';

/** The code of the problem each reply was answered with (the metrics count it, never re-parse it). */
const problemCodes = new WeakMap<FastifyReply, ErrorCode>();

/** The error code `sendProblem` answered this reply with, if it did. */
export function problemCodeOf(reply: FastifyReply): ErrorCode | undefined {
  return problemCodes.get(reply);
}

export interface SendProblemOptions {
  /** Put the request path in `instance` (default true); never for a URL that is itself the problem. */
  instance?: boolean;
}

/** Answer with `error` as problem+json; `retryAfterSeconds` in its details becomes `Retry-After`. */
export function sendProblem(
  req: FastifyRequest,
  reply: FastifyReply,
  error: ApiError,
  options: SendProblemOptions = {},
): FastifyReply {
  const { details, retryAfter } = splitDetails(error);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  const instance = options.instance === false ? undefined : (req.url.split('?')[0] ?? '/');
  problemCodes.set(reply, error.code);
  return reply
    .code(error.status)
    .type(PROBLEM_TYPE)
    .send(JSON.stringify(toProblem(error.code, error.message, details, instance, req.id)));
}

/**
 * A whole HTTP/1.1 response carrying `error` as problem+json, for a socket no request was made
 * of (the HTTP parser refused what arrived). It closes the connection and names no part of the
 * request.
 */
export function rawProblemResponse(error: ApiError): string {
  const requestId = randomUUID();
  const { details, retryAfter } = splitDetails(error);
  const body = JSON.stringify(toProblem(error.code, error.message, details, undefined, requestId));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    `content-type: ${PROBLEM_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    ...(retryAfter !== undefined ? [`retry-after: ${retryAfter}`] : []),
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

function splitDetails(error: ApiError): {
  details: Record<string, unknown> | undefined;
  retryAfter: number | undefined;
} {
  if (!error.details) return { details: undefined, retryAfter: undefined };
  const { retryAfterSeconds, ...details } = error.details;
  return {
    details,
    retryAfter: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : undefined,
  };
}
