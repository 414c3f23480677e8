import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';

export interface OpsRouteDeps {
  /** Named readiness checks: NATS connected, stream and buckets present. */
  readiness: () => Promise<Record<string, boolean>>;
}

const Health = Type.Object({ status: Type.String() });
const Ready = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.Boolean()),
});

export const opsRoutes: FastifyPluginAsync<OpsRouteDeps> = async (app, { readiness }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
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
        tags: ['operations'],
        summary: 'Readiness: NATS connected, stream and buckets present',
        response: { 200: Ready, 503: Ready },
      },
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const checks = await readiness();
      const ready = Object.values(checks).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
};
