import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '@cb/logging';

/**
 * The gateway's Fastify instance. A module of its own, so the plugins app.ts installs (auth,
 * HTTP handling, metrics) name it without importing app.ts, which imports them.
 */
export type App = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;
