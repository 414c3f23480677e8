import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  EventsQuery,
  Problem,
  TokenParams,
  WorkflowParams,
  type SequencedEvent,
} from '@cb/schemas';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../api-error';
import type { EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import type { LiveEvents } from '../read/live-events';
import type { Reads } from '../read/reads';

export interface EventRouteDeps {
  live: LiveEvents;
  reads: Reads;
  store: EventStore;
  naming: Naming;
}

/** A client that reads slower than events arrive is cut off past this much unsent output. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

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
      'text/event-stream: `id:` = stream seq, `event:` = event type, `data:` = `{ seq, event }`; comment heartbeats',
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
  // Open streams end before the server closes, or closing would wait for them forever.
  const closers = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...closers]) close();
  });
  const stream = (
    req: FastifyRequest,
    reply: FastifyReply,
    filter: string,
    afterSeq: number | undefined,
  ): Promise<FastifyReply> => serve(req, reply, live, closers, filter, afterSeq);

  api.get(
    '/v1/workflows/:workflowId/events',
    {
      schema: {
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
      await reads.workflow(workflowId);
      const filter = naming.workflowTokensFilter(workflowId);
      return stream(req, reply, filter, resumeAfter(req.headers['last-event-id'], req.query.since));
    },
  );

  api.get(
    '/v1/workflows/:workflowId/tokens/:tokenId/events',
    {
      schema: {
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
      const subject = naming.tokenSubject(workflowId, tokenId);
      if ((await store.last(subject)) === null) {
        throw new ApiError(
          'TOKEN_NOT_FOUND',
          `token ${tokenId} does not exist in workflow ${workflowId}`,
        );
      }
      return stream(
        req,
        reply,
        subject,
        resumeAfter(req.headers['last-event-id'], req.query.since),
      );
    },
  );
};

function resumeAfter(
  lastEventId: string | undefined,
  since: number | undefined,
): number | undefined {
  if (lastEventId !== undefined) return Number(lastEventId);
  return since;
}

async function serve(
  req: FastifyRequest,
  reply: FastifyReply,
  live: LiveEvents,
  closers: Set<() => void>,
  filter: string,
  afterSeq: number | undefined,
): Promise<FastifyReply> {
  const res = reply.raw;
  const queued: string[] = [];
  let streaming = false;
  let closed = false;
  const write = (chunk: string): void => {
    if (closed) return;
    if (!streaming) {
      queued.push(chunk);
      return;
    }
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      req.log.warn({ filter }, 'live events client too slow; closing (it can resume)');
      res.end();
    }
  };
  const subscription = await live.subscribe(filter, afterSeq, (e) => write(frame(e)));

  // From here on the response is ours, not Fastify's.
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  res.write(`retry: 2000\n: streaming ${filter} after seq ${afterSeq ?? 'now'}\n\n`);
  streaming = true;
  for (const chunk of queued.splice(0)) write(chunk);

  const heartbeat = setInterval(
    () => write(`: heartbeat ${Date.now()}\n\n`),
    live.options.heartbeatMs,
  );
  const close = (): void => {
    if (closed) return;
    closed = true;
    closers.delete(close);
    clearInterval(heartbeat);
    void subscription.stop();
    if (!res.writableEnded) res.end();
  };
  res.on('close', close);
  res.on('error', close);
  closers.add(close);
  return reply;
}

function frame(e: SequencedEvent): string {
  return `id: ${e.seq}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e)}\n\n`;
}
