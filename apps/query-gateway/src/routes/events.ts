import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EventsQuery, Problem, TokenParams, WorkflowParams } from '@cb/schemas';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../api-error';
import { tenantOf } from '../auth/principal';
import type { EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import type { LiveEvents } from '../read/live-events';
import { SSE_HEADERS } from '../read/sse-frames';
import type { Reads } from '../read/reads';

export interface EventRouteDeps {
  live: LiveEvents;
  reads: Reads;
  store: EventStore;
  naming: Naming;
}

const LastEventIdHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,15}$',
      description: 'the `id` of the last event received: the stream resumes right after it',
    }),
  ),
});

const sseResponse = {
  200: Type.String({
    description:
      'text/event-stream: `id:` = stream seq, `event:` = event type, `data:` = `{ seq, event }`; comment heartbeats; a client too slow for its buffer gets a final `event: cutoff` with `{ reason, lastEventId }` and the stream ends. HEAD answers with these headers and no body.',
  }),
  400: Problem,
  404: Problem,
  429: Problem,
  503: Problem,
};

export const eventRoutes: FastifyPluginAsync<EventRouteDeps> = async (
  app,
  { live, reads, store, naming },
) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // Open streams end before the server closes, or closing would wait for them.
  app.addHook('preClose', async () => live.endAll());

  api.get(
    '/v1/workflows/:workflowId/events',
    {
      config: { scope: 'read', responseHeaders: { 200: ['Cache-Control'] } },
      schema: {
        operationId: 'streamWorkflowEvents',
        tags: ['live events'],
        summary: 'Live events of every token of a workflow (Server-Sent Events)',
        params: WorkflowParams,
        querystring: EventsQuery,
        headers: LastEventIdHeaders,
        produces: ['text/event-stream'],
        response: sseResponse,
      },
    },
    async (req, reply) => {
      const { workflowId } = req.params;
      const tenant = tenantOf(req);
      return serve(req, reply, live, async () => {
        await reads.workflow(tenant, workflowId);
        return naming.workflowTokensFilter(tenant, workflowId);
      });
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId/events',
    {
      config: { scope: 'read', responseHeaders: { 200: ['Cache-Control'] } },
      schema: {
        operationId: 'streamTokenEvents',
        tags: ['live events'],
        summary: 'Live events of one token (Server-Sent Events)',
        params: TokenParams,
        querystring: EventsQuery,
        headers: LastEventIdHeaders,
        produces: ['text/event-stream'],
        response: sseResponse,
      },
    },
    async (req, reply) => {
      const { workflowId, tokenId } = req.params;
      return serve(req, reply, live, async () => {
        const subject = naming.tokenSubject(tenantOf(req), workflowId, tokenId);
        if ((await store.last(subject)) === null) {
          throw new ApiError(
            'TOKEN_NOT_FOUND',
            `token ${tokenId} does not exist in workflow ${workflowId}`,
          );
        }
        return subject;
      });
    },
  );
};

/** `Last-Event-ID`, else `?since=` (both checked by the schemas); undefined: only new events. */
function resumeAfter(req: FastifyRequest): number | undefined {
  const lastEventId = req.headers['last-event-id'];
  if (typeof lastEventId === 'string') return Number(lastEventId);
  return (req.query as EventsQuery).since;
}

/**
 * Serve one stream of the filter `resolve` finds (it throws 404s). HEAD (which Fastify routes
 * here too) answers at once with the stream's headers and no body, holding nothing. A GET takes
 * its slot before the first await, so a client gone at any moment leaves nothing behind.
 */
async function serve(
  req: FastifyRequest,
  reply: FastifyReply,
  live: LiveEvents,
  resolve: () => Promise<string>,
): Promise<FastifyReply> {
  if (req.method === 'HEAD') {
    await resolve();
    // An empty stream, not an empty body: a stream gets no `content-length: 0`, like the GET.
    return reply.code(200).headers(SSE_HEADERS).send(Readable.from([]));
  }
  const stream = live.open(reply.raw, req.log);
  try {
    await stream.follow(await resolve(), resumeAfter(req), { 'x-request-id': req.id });
  } catch (err) {
    stream.abandon();
    throw err;
  }
  if (!stream.streaming && !reply.raw.destroyed) {
    throw new ApiError('SERVICE_UNAVAILABLE', 'the gateway is shutting down', {
      retryAfterSeconds: 1,
    });
  }
  // From here on the response is the stream's, not Fastify's (or the client is gone).
  reply.hijack();
  return reply;
}
