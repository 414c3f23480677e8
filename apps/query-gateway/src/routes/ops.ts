import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';

export interface OpsRouteDeps {
  /** Named readiness checks: NATS connected, stream and buckets present. */
  readiness: () => Promise<Record<string, boolean>>;
  /**
   * Named checks that are already in memory (the command service's latest ping), read at every
   * probe, outside the cache, so they count as soon as they change.
   */
  liveReadiness?: () => Record<string, boolean>;
  /** A readiness answer is reused this long (default 1 s): probes must stay cheap. */
  readinessCacheMs?: number;
  /** Checks that take longer count as not ready (default 1 s): a hung NATS must not hang /ready. */
  readinessTimeoutMs?: number;
}

const Health = Type.Object({ status: Type.String({ description: '`ok`' }) });
const Ready = Type.Object({
  status: Type.String({ description: '`ready` or `not ready`' }),
  checks: Type.Record(Type.String(), Type.Boolean(), {
    description: 'each named check and whether it passed',
  }),
});

/** The check name reported when the checks do not answer in time. */
export const READINESS_TIMEOUT_CHECK = 'answeredInTime';
/** The check name reported when the checks themselves fail. */
export const READINESS_ERROR_CHECK = 'checksRan';

/**
 * `check`, bounded in time and shared: calls within `cacheMs` of a started check get its answer
 * (concurrent probes run it once); a check slower than `timeoutMs`, or one that throws, is
 * "not ready".
 */
export function boundedReadiness(
  check: () => Promise<Record<string, boolean>>,
  cacheMs: number,
  timeoutMs: number,
  now: () => number = Date.now,
): () => Promise<Record<string, boolean>> {
  let last: { at: number; answer: Promise<Record<string, boolean>> } | undefined;
  return () => {
    const at = now();
    if (last && at - last.at < cacheMs) return last.answer;
    const answer = new Promise<Record<string, boolean>>((resolve) => {
      const timer = setTimeout(() => resolve({ [READINESS_TIMEOUT_CHECK]: false }), timeoutMs);
      timer.unref();
      const settle = (checks: Record<string, boolean>): void => {
        clearTimeout(timer);
        resolve(checks);
      };
      Promise.resolve()
        .then(check)
        .then(settle, () => settle({ [READINESS_ERROR_CHECK]: false }));
    });
    last = { at, answer };
    return answer;
  };
}

export const opsRoutes: FastifyPluginAsync<OpsRouteDeps> = async (
  app,
  { readiness, liveReadiness = () => ({}), readinessCacheMs = 1000, readinessTimeoutMs = 1000 },
) => {
  const ready = boundedReadiness(readiness, readinessCacheMs, readinessTimeoutMs);
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        description: 'Public. Answers 200 as long as the process serves HTTP, whatever NATS does.',
        response: { 200: Health },
      },
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/ready',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['operations'],
        description:
          'Public. 200 when every check passes, else 503 with the checks that fail as `false`: a load balancer sends traffic only to a ready gateway.',
        summary:
          'Readiness: NATS connected, event stream and the read-model buckets of the current generation present (checked at most once a second, within a second), and a command service answering its ping (within the last 2 s)',
        response: {
          200: { ...Ready, description: 'Ready: every check passed' },
          503: { ...Ready, description: 'Not ready: the failing checks are `false`' },
        },
      },
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const checks = { ...(await ready()), ...liveReadiness() };
      const ok = Object.values(checks).every(Boolean);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );
};
