import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '@cb/logging';

/**
 * Fastify's request lines, made cheap: one line per answered request at `debug` (method, route
 * pattern, status, milliseconds) instead of two at `info` ("incoming request", "request
 * completed"). At the default level a request writes no line: on the fire path those two lines
 * were about a seventh of the gateway's CPU (pino's serialisation with redaction, a write each),
 * and `npm start` relays each line again. Counts, statuses and latencies are in /metrics; a
 * response that fails, 5xx answers and failed authentications keep their own lines.
 */
export class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) return super.requestCompleted(error, request, reply);
    // The gateway's logger is pino's (buildApp's loggerInstance): its children can say.
    const log = request.log as Logger;
    if (!log.isLevelEnabled('debug')) return;
    log.debug(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    );
  }
}
