import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@cb/ops';
import type { App } from './app-type';
import { problemCodeOf } from './http/problem';
import type { LiveEventStats } from './read/live-events';
import { CUTOFF_REASONS } from './read/sse-frames';

export const METRICS_PATH = '/metrics';
/** The route label of requests no route matched (never the raw URL: unbounded cardinality). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Prometheus metrics at /metrics (own registry, default process metrics): request rate and
 * latency by route pattern, problem responses by error code, live event streams, their NATS
 * subscriptions and cut-offs.
 */
export function registerHttpMetrics(
  app: App,
  liveStats: () => LiveEventStats,
  registry = new Registry(),
): void {
  collectProcessMetrics(registry);

  const requests = new Counter({
    name: 'cb_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status (a live event stream once it ends)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'cb_http_request_duration_seconds',
    help: 'HTTP request duration in seconds (until the response is finished), by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'cb_http_errors_total',
    help: 'Problem (application/problem+json) responses, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });

  // Live events: read from the LiveEvents that owns them, so the numbers are the real ones.
  new Gauge({
    name: 'cb_http_live_event_streams',
    help: 'Live event (Server-Sent Events) streams holding a slot (SSE_MAX_CONNECTIONS bounds them)',
    registers: [registry],
    collect() {
      this.set(liveStats().streams);
    },
  });
  new Gauge({
    name: 'cb_live_event_subscriptions',
    help: 'NATS subscriptions (one consumer each) fanned out to live event streams: one per workflow or token followed',
    registers: [registry],
    collect() {
      this.set(liveStats().subscriptions);
    },
  });
  new Counter({
    name: 'cb_live_event_cutoffs_total',
    help: 'Live event streams the gateway ended with a final cutoff event, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      // The count lives in LiveEvents; a counter has no set(), so it is rebuilt on each scrape.
      const { cutoffs } = liveStats();
      this.reset();
      for (const reason of CUTOFF_REASONS) this.inc({ reason }, cutoffs[reason]);
    },
  });

  // Label sets are reused, not rebuilt per request (the set of routes and statuses is small),
  // and found without building a key string per request: by route pattern, method, status.
  const labelsByRoute = new Map<string, Map<string, RouteLabels>>();
  const errorLabels = new Map<string, { code: string }>();

  const record = (req: FastifyRequest, reply: FastifyReply): void => {
    const method = req.method;
    const route = routeOf(req);
    let byMethod = labelsByRoute.get(route);
    if (!byMethod) {
      byMethod = new Map();
      labelsByRoute.set(route, byMethod);
    }
    let labels = byMethod.get(method);
    if (!labels) {
      labels = { timing: { method, route }, byStatus: new Map() };
      byMethod.set(method, labels);
    }
    const status = reply.statusCode;
    let counted = labels.byStatus.get(status);
    if (!counted) {
      counted = { method, route, status: String(status) };
      labels.byStatus.set(status, counted);
    }
    requests.inc(counted);
    duration.observe(labels.timing, reply.elapsedTime / 1000);
  };

  /** Responses onResponse counted (it also runs on a response error, before the close). */
  const counted = new WeakSet<object>();
  app.addHook('onResponse', (req, reply, done) => {
    counted.add(reply.raw);
    record(req, reply);
    done();
  });
  // Fastify runs onResponse when a response finishes. One that closes unfinished after its status
  // went out never gets there: a live event stream the client ends (the usual end of one), a
  // body the client stopped reading. It is counted when it closes, with the status it was sent.
  app.addHook('onRequest', (req, reply, done) => {
    const res = reply.raw;
    res.once('close', () => {
      if (!res.writableFinished && res.headersSent && !counted.has(res)) record(req, reply);
    });
    done();
  });

  // Every problem response is sent by sendProblem, which keeps its code with the reply.
  app.addHook('onSend', (_req, reply, payload, done) => {
    const code = reply.statusCode >= 400 ? problemCodeOf(reply) : undefined;
    if (code !== undefined) {
      let labels = errorLabels.get(code);
      if (!labels) {
        labels = { code };
        errorLabels.set(code, labels);
      }
      errors.inc(labels);
    }
    done(null, payload);
  });

  // In a plugin, so it is added after @fastify/swagger started collecting routes.
  app.register(async (instance) => {
    instance.get(
      METRICS_PATH,
      {
        schema: {
          operationId: 'getMetrics',
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format)',
          description: 'Public. The Prometheus text exposition format, for a scraper.',
          produces: ['text/plain'],
          response: {
            200: Type.String({
              description:
                'cb_http_requests_total, cb_http_request_duration_seconds, cb_http_errors_total, cb_http_live_event_streams, cb_live_event_subscriptions, cb_live_event_cutoffs_total and the default process metrics',
            }),
          },
        },
        logLevel: 'warn',
      },
      async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
  });
}

/** The label sets of one route pattern and method: its duration's, and its count's per status. */
interface RouteLabels {
  readonly timing: { method: string; route: string };
  readonly byStatus: Map<number, { method: string; route: string; status: string }>;
}

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? UNMATCHED_ROUTE;
}
