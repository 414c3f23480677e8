import Negotiator from 'negotiator';
import type { FastifyRequest } from 'fastify';
import type { App } from '../app-type';
import { ApiError } from '../api-error';
import { sendProblem } from './problem';

const JSON_TYPES = ['application/json'] as const;

/** The media types a route answers with: its schema's `produces`, else JSON when it has responses. */
function producedBy(req: FastifyRequest): readonly string[] | undefined {
  const schema = req.routeOptions.schema as
    { produces?: readonly string[]; response?: unknown } | undefined;
  if (schema?.produces) return schema.produces;
  return schema?.response ? JSON_TYPES : undefined;
}

/**
 * A request whose `Accept` excludes every type its route serves is answered 406 NOT_ACCEPTABLE
 * (the error itself is problem+json all the same). No `Accept`, or one of any type, costs nothing.
 */
export function installNegotiation(app: App): void {
  app.addHook('onRequest', async (req, reply) => {
    const accept = req.headers.accept;
    if (!accept || accept === '*/*' || req.is404) return;
    const produced = producedBy(req);
    if (!produced) return;
    if (new Negotiator({ headers: { accept } }).mediaType(produced) !== undefined) return;
    return sendProblem(
      req,
      reply,
      new ApiError(
        'NOT_ACCEPTABLE',
        `this route answers with ${produced.join(' or ')}, which the Accept header excludes`,
        { available: [...produced] },
      ),
    );
  });
}
