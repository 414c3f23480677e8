import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { KeyStore } from '@cb/auth';
import type { Logger } from '@cb/logging';
import { NatsPlatformError, classifyNatsError, isNatsOutage, type EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import { ApiError } from './api-error';
import type { App } from './app-type';
import { installAuth, type AuthDeps } from './auth/plugin';
import type { CommandClient } from './command-client';
import type { GuardCompiler } from './definitions/check-definition';
import { DEFAULT_LIMITS, type GraphqlLimits } from './graphql/limits';
import { graphiqlRoutes } from './graphql/graphiql';
import { graphqlPlugin } from './graphql/plugin';
import { registerHttpMetrics } from './http-metrics';
import { clientErrorHandler, frameworkErrors } from './http/client-errors';
import { installMethodHandling } from './http/methods';
import { installNegotiation } from './http/negotiation';
import { RequestLog } from './http/request-log';
import { sendProblem } from './http/problem';
import { installShutdownAnswer } from './http/shutdown';
import { MAX_PARAM_LENGTH, installUrlLimit } from './http/url-limits';
import { parseJsonBody } from './json/parse-body';
import { registerOpenApi } from './openapi';
import type { LiveEvents } from './read/live-events';
import type { Reads } from './read/reads';
import { adminKeyRoutes } from './routes/admin-keys';
import { bulkFireRoutes } from './routes/bulk-fire';
import { consoleRoutes, defaultConsoleDir } from './routes/console';
import { eventRoutes } from './routes/events';
import { opsRoutes } from './routes/ops';
import { searchRoutes } from './routes/search';
import { sessionRoutes } from './routes/sessions';
import { tokenRoutes } from './routes/tokens';
import { webhookRoutes } from './routes/webhooks';
import type { WebhookReads } from './read/webhooks';
import { workflowRoutes } from './routes/workflows';

export interface AppDeps {
  logger: Logger;
  /** Credentials, rate limits and the failure slow-down (libs/auth). */
  auth: AuthDeps;
  /** The keys bucket (what the key projection wrote), for the admin API. */
  keys: Pick<KeyStore, 'get' | 'list'>;
  /** CB_KEY_PEPPER: new keys' secrets are stored as HMAC-SHA256(pepper, secret). */
  keyPepper?: string;
  /** How long key creation and revocation wait for the key projection (MIN_SEQ_WAIT_MS). */
  projectionWaitMs: number;
  commands: CommandClient;
  reads: Reads;
  /** The guard pool's compiler: definition checks compile guards as the command service does. */
  guards: GuardCompiler;
  /** Webhook registrations, status and delivery attempts. */
  webhooks: WebhookReads;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: accept webhook targets in private and loopback ranges. */
  webhookAllowPrivateNetworks?: boolean;
  live: LiveEvents;
  store: EventStore;
  naming: Naming;
  maxBodyBytes: number;
  /** Tokens fired at once by one bulk-fire request. */
  bulkFireConcurrency: number;
  /** How long Idempotency-Keys are remembered (CB_DUPLICATE_WINDOW_MS). */
  idempotencyWindowMs: number;
  readiness: () => Promise<Record<string, boolean>>;
  /** Where /metrics comes from; other components (the guard pool) register in it too. */
  registry?: Registry;
  /** Readiness checks answered from memory at every probe (see OpsRouteDeps). */
  liveReadiness?: () => Record<string, boolean>;
  /** The console's build (CONSOLE_DIR); default apps/console/dist of the repository. */
  consoleDir?: string;
  /** GraphQL's limits and introspection switch (GRAPHQL_*); default DEFAULT_LIMITS. */
  graphql?: GraphqlLimits;
}

// The type lives in app-type.ts (the plugins below name it without importing this module).
export type { App };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Build the gateway; never listens (main.ts does). Tests use `app.inject`. */
export function buildApp(deps: AppDeps): App {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.maxBodyBytes,
    requestIdHeader: false,
    logController: new RequestLog(),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: {} },
    // Answered by installShutdownAnswer instead, as problem+json with a code and Retry-After.
    return503OnClosing: false,
    // Long ids must reach validation (400 with a code), not fall through to "no route".
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Every error is problem+json: what the router and Node's HTTP parser refuse, too.
    frameworkErrors,
    clientErrorHandler: clientErrorHandler(deps.logger),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  installValidators(app);
  installJsonParsers(app);
  installErrorHandling(app);
  // In this order: shutting down, then the URL, the method, and what the client accepts.
  installShutdownAnswer(app);
  installUrlLimit(app);
  installMethodHandling(app);
  installNegotiation(app);
  // Before any body is read; also checks every /v1 route declares its scope.
  installAuth(app, deps.auth);
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });

  // Both hook into route registration, so they come before the routes.
  registerOpenApi(app);
  registerHttpMetrics(app, () => deps.live.stats(), deps.registry);
  app.register(opsRoutes, {
    readiness: deps.readiness,
    ...(deps.liveReadiness ? { liveReadiness: deps.liveReadiness } : {}),
  });
  app.register(workflowRoutes, {
    commands: deps.commands,
    reads: deps.reads,
    guards: deps.guards,
  });
  app.register(tokenRoutes, { commands: deps.commands, reads: deps.reads });
  app.register(searchRoutes, { reads: deps.reads });
  app.register(bulkFireRoutes, {
    commands: deps.commands,
    reads: deps.reads,
    concurrency: deps.bulkFireConcurrency,
    idempotencyWindowMs: deps.idempotencyWindowMs,
  });
  app.register(adminKeyRoutes, {
    commands: deps.commands,
    keys: deps.keys,
    projectionWaitMs: deps.projectionWaitMs,
    ...(deps.keyPepper !== undefined ? { pepper: deps.keyPepper } : {}),
  });
  app.register(webhookRoutes, {
    commands: deps.commands,
    webhooks: deps.webhooks,
    allowPrivateNetworks: deps.webhookAllowPrivateNetworks ?? false,
    projectionWaitMs: deps.projectionWaitMs,
  });
  app.register(sessionRoutes, { authenticator: deps.auth.authenticator });
  app.register(eventRoutes, {
    live: deps.live,
    reads: deps.reads,
    store: deps.store,
    naming: deps.naming,
  });
  app.register(consoleRoutes, { dir: deps.consoleDir ?? defaultConsoleDir() });
  app.register(graphqlPlugin, {
    reads: deps.reads,
    commands: deps.commands,
    store: deps.store,
    naming: deps.naming,
    live: deps.live,
    auth: deps.auth,
    bulkFireConcurrency: deps.bulkFireConcurrency,
    idempotencyWindowMs: deps.idempotencyWindowMs,
    limits: deps.graphql ?? DEFAULT_LIMITS,
    // The same answers as REST for what is not GraphQL's own (body limits, NATS outages, …).
    toApiError: (error, req) =>
      req !== undefined
        ? toApiError(error as FastifyError, req)
        : new ApiError('INTERNAL_ERROR', 'an unexpected error occurred; it was logged'),
  });
  app.register(graphiqlRoutes);
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

/**
 * JSON bodies (also `application/merge-patch+json`), parsed in one place for every route:
 * parseJsonBody bounds their depth and refuses prototype keys and numbers that would change.
 */
function installJsonParsers(app: App): void {
  // Only JSON bodies are accepted: anything else is 415 UNSUPPORTED_MEDIA_TYPE.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (
      _req: FastifyRequest,
      body: string | Buffer,
      done: (err: Error | null, body?: unknown) => void,
    ) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error);
      }
    },
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

export { sendProblem };

/** Validation errors reported in one answer (`errorCount` tells how many there were). */
const MAX_REPORTED_ERRORS = 20;
const MAX_SHOWN = 200;

/** Request text quoted in an answer, cut short. */
function shown(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
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
  // Whichever NATS client raised it (our lean requests, nats.js KV or JetStream manager calls).
  if (error instanceof NatsPlatformError || isNatsOutage(error)) {
    req.log.warn({ err: error }, 'NATS request failed');
    const message =
      classifyNatsError(error).code === 'TIMEOUT'
        ? 'NATS did not answer in time; retry shortly'
        : 'NATS is unavailable; retry shortly';
    return new ApiError('SERVICE_UNAVAILABLE', message, { retryAfterSeconds: 1 });
  }
  if (error.validation) {
    const part = error.validationContext ?? 'body';
    // The first few, each cut short: the answer stays small whatever was sent.
    const errors = error.validation.slice(0, MAX_REPORTED_ERRORS).map((v) => {
      const missing = (v.params as { missingProperty?: string }).missingProperty;
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      const suffix = missing ? `/${missing}` : extra ? `/${extra}` : '';
      return {
        path: shown(`${part}${v.instancePath}${suffix}`),
        message: shown(v.message ?? 'is invalid'),
      };
    });
    const more = error.validation.length - errors.length;
    return new ApiError(
      'VALIDATION_ERROR',
      `${part} is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
      { errors, ...(more > 0 ? { errorCount: error.validation.length } : {}) },
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
        `content type ${shown(String(req.headers['content-type']))} is not supported; send application/json`,
      );
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
