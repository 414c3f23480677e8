import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@cb/logging';
import { ApiError } from '../api-error';
import { rawProblemResponse, sendProblem } from './problem';
import { MAX_PARAM_LENGTH } from './url-limits';

/** What Node's HTTP parser refused, as one of our errors. Never names part of the request. */
export function parserError(code: string | undefined): ApiError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        'HEADERS_TOO_LARGE',
        'the request line and headers exceed the limit of 16 KiB together',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('REQUEST_TIMEOUT', 'the request did not arrive in time');
    case 'HPE_INVALID_METHOD':
      return new ApiError('MALFORMED_REQUEST', 'the request method is not one HTTP defines');
    default:
      return new ApiError(
        'MALFORMED_REQUEST',
        `the request is not well-formed HTTP/1.1${code ? ` (${code})` : ''}`,
      );
  }
}

/**
 * Fastify's `clientErrorHandler`: the socket gets a problem+json answer when nothing has been
 * written on it for a request yet, then is closed (as Node does by default, with its own body).
 */
export function clientErrorHandler(logger: Logger) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const error = parserError(err.code);
    logger.debug({ code: error.code, reason: err.code }, 'HTTP parser refused a request');
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) socket.write(rawProblemResponse(error));
    socket.destroy();
  };
}

/** Fastify's `frameworkErrors`: a URL the router cannot take. The answer never echoes it. */
export function frameworkErrors(
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      sendProblem(
        req,
        reply,
        new ApiError('MALFORMED_REQUEST', 'the URL is not validly percent-encoded'),
        { instance: false },
      );
      return;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      sendProblem(
        req,
        reply,
        new ApiError(
          'URI_TOO_LONG',
          `a segment of the URL path is longer than ${MAX_PARAM_LENGTH} characters`,
        ),
        { instance: false },
      );
      return;
    default:
      req.log.error({ err: error }, 'router error');
      sendProblem(
        req,
        reply,
        new ApiError('INTERNAL_ERROR', 'an unexpected error occurred; it was logged'),
        { instance: false },
      );
  }
}
