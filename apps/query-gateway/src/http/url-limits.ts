import type { App } from '../app-type';
import { ApiError } from '../api-error';
import { sendProblem } from './problem';

/** Longest path parameter the router takes (longer: 414); ids are refused by validation long before. */
export const MAX_PARAM_LENGTH = 2048;
/** Longest URL, path and query string together (longer: 414). */
export const MAX_URL_LENGTH = 8192;

/** A URL longer than MAX_URL_LENGTH is answered 414 URI_TOO_LONG before anything else runs. */
export function installUrlLimit(app: App): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length <= MAX_URL_LENGTH) return;
    return sendProblem(
      req,
      reply,
      new ApiError('URI_TOO_LONG', `the URL is longer than ${MAX_URL_LENGTH} characters`),
      { instance: false },
    );
  });
}
