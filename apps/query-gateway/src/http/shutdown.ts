import type { App } from '../app-type';
import { ApiError } from '../api-error';
import { sendProblem } from './problem';

/** What a client is told to wait before retrying a request refused during shutdown. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Once the gateway starts closing, a request that still arrives (on a connection that was busy,
 * or pipelined) is answered 503 SERVICE_UNAVAILABLE with `Retry-After`, and the connection is
 * closed; in-flight requests finish. (Fastify's own answer, `return503OnClosing`, is plain JSON
 * without a code: it is turned off where the app is built.)
 */
export function installShutdownAnswer(app: App): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    app.log.info('closing: requests that still arrive get 503 SERVICE_UNAVAILABLE');
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    return sendProblem(
      req,
      reply,
      new ApiError('SERVICE_UNAVAILABLE', 'the gateway is shutting down; retry shortly', {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      }),
    );
  });
}
