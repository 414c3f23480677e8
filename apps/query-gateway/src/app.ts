import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { jsonDepthExceeds } from '@cb/domain';
import type { Logger } from '@cb/logging';
import { NatsPlatformError, type EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import { MAX_JSON_DEPTH } from '@cb/schemas';
import { ApiError, toProblem } from './api-error';
import type { CommandClient } from './command-client';
import { registerHttpMetrics } from './http-metrics';
import { registerOpenApi } from './openapi';
import type { LiveEvents } from './read/live-events';
import type { Reads } from './read/reads';
import { bulkFireRoutes } from './routes/bulk-fire';
import { eventRoutes } from './routes/events';
import { opsRoutes } from './routes/ops';
import { searchRoutes } from './routes/search';
import { tokenRoutes } from './routes/tokens';
import { workflowRoutes } from './routes/workflows';

export interface AppDeps {
  logger: Logger;
  commands: CommandClient;
  reads: Reads;
  live: LiveEvents;
  store: EventStore;
  naming: Naming;
  maxBodyBytes: number;
  /** Tokens fired at once by one bulk-fire request. */
  bulkFireConcurrency: number;
  /** How long Idempotency-Keys are remembered (CB_DUPLICATE_WINDOW_MS). */
  idempotencyWindowMs: number;
  readiness: () => Promise<Record<string, boolean>>;
  /** Readiness checks answered from memory at every probe (see OpsRouteDeps). */
  liveReadiness?: () => Record<string, boolean>;
}

export type App = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Build the gateway; never listens (main.ts does). Tests use `app.inject`. */
export function buildApp(deps: AppDeps): App {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.maxBodyBytes,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: {} },
    return503OnClosing: true,
    // Long ids must reach validation (400 with a code), not fall through to "no route".
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  installValidators(app);
  installJsonParsers(app);
  installErrorHandling(app);
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });

  // Both hook into route registration, so they come before the routes.
  registerOpenApi(app);
  registerHttpMetrics(app);
  app.register(opsRoutes, {
    readiness: deps.readiness,
    ...(deps.liveReadiness ? { liveReadiness: deps.liveReadiness } : {}),
  });
  app.register(workflowRoutes, { commands: deps.commands, reads: deps.reads });
  app.register(tokenRoutes, { commands: deps.commands, reads: deps.reads });
  app.register(searchRoutes, { reads: deps.reads });
  app.register(bulkFireRoutes, {
    commands: deps.commands,
    reads: deps.reads,
    concurrency: deps.bulkFireConcurrency,
    idempotencyWindowMs: deps.idempotencyWindowMs,
  });
  app.register(eventRoutes, {
    live: deps.live,
    reads: deps.reads,
    store: deps.store,
    naming: deps.naming,
  });
  return app;
}

/**
 * Bodies are validated strictly (no type coercion: `"5"` is not a number); path, query and
 * header values are strings on the wire and are coerced to their declared types.
 */
function installValidators(app: App): void {
  const base = {
    allErrors: true,
    strict: false,
    removeAdditional: false,
    useDefaults: true,
  } as const;
  const bodyAjv = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const partAjv = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : partAjv).compile(schema as object),
  );
}

/** JSON bodies (also `application/merge-patch+json`) nested deeper than the limit are refused. */
function installJsonParsers(app: App): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  const parser = (
    req: FastifyRequest,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ): void => {
    parse(req, body as string, (err, value) => {
      if (err) return done(err);
      if (jsonDepthExceeds(value, MAX_JSON_DEPTH + 2)) {
        return done(
          new ApiError(
            'VALIDATION_ERROR',
            `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels in data and metadata`,
          ),
        );
      }
      done(null, value);
    });
  };
  // Only JSON bodies are accepted: anything else is 415 UNSUPPORTED_MEDIA_TYPE.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    parser,
  );
}

function installErrorHandling(app: App): void {
  app.setNotFoundHandler((req, reply) => {
    sendProblem(
      req,
      reply,
      new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
    );
  });
  app.setErrorHandler(async (error: FastifyError | ApiError | NatsPlatformError, req, reply) => {
    const problem = toApiError(error, req);
    // Answering before the client has sent its whole body makes many clients fail with EPIPE
    // instead of reading the 413: read and discard the rest first (bounded in time).
    if (problem.code === 'PAYLOAD_TOO_LARGE' && !req.raw.complete) await drain(req.raw, 5000);
    sendProblem(req, reply, problem);
  });
}

function drain(stream: IncomingMessage, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      stream.off('end', done).off('error', done).off('close', done);
      resolve();
    }
    stream.on('end', done).on('error', done).on('close', done);
    stream.resume();
  });
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, error: ApiError): void {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  const details = error.details ? { ...error.details } : undefined;
  if (details) delete details.retryAfterSeconds;
  reply
    .code(error.status)
    .type('application/problem+json')
    .send(
      JSON.stringify(
        toProblem(error.code, error.message, details, req.url.split('?')[0] ?? '/', req.id),
      ),
    );
}

function toApiError(
  error: FastifyError | ApiError | NatsPlatformError,
  req: FastifyRequest,
): ApiError {
  if (error instanceof ApiError) {
    if (error.status >= 500)
      req.log.warn({ code: error.code, cause: String(error.cause ?? '') }, error.message);
    return error;
  }
  if (error instanceof NatsPlatformError) {
    req.log.warn({ err: error }, 'NATS request failed');
    const message =
      error.code === 'TIMEOUT'
        ? 'NATS did not answer in time; retry shortly'
        : 'NATS is unavailable; retry shortly';
    return new ApiError('SERVICE_UNAVAILABLE', message, { retryAfterSeconds: 1 });
  }
  if (error.validation) {
    const part = error.validationContext ?? 'body';
    const errors = error.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string }).missingProperty;
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      const suffix = missing ? `/${missing}` : extra ? `/${extra}` : '';
      return { path: `${part}${v.instancePath}${suffix}`, message: v.message ?? 'is invalid' };
    });
    return new ApiError(
      'VALIDATION_ERROR',
      `${part} is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      { errors },
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        'PAYLOAD_TOO_LARGE',
        `the body exceeds ${req.routeOptions.bodyLimit ?? 'the limit of'} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content type ${String(req.headers['content-type'])} is not supported; send application/json`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('VALIDATION_ERROR', 'the body is empty but the content type is JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('VALIDATION_ERROR', 'the body is not valid JSON');
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new ApiError('VALIDATION_ERROR', `the body is not valid: ${error.message}`);
  }
  if (error.statusCode === 413) return new ApiError('PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE', error.message);
  if (error.statusCode === 503)
    return new ApiError('SERVICE_UNAVAILABLE', 'the gateway is shutting down', {
      retryAfterSeconds: 1,
    });
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError('VALIDATION_ERROR', error.message);
  }
  req.log.error({ err: error }, 'unhandled error');
  return new ApiError('INTERNAL_ERROR', 'an unexpected error occurred; it was logged');
}
