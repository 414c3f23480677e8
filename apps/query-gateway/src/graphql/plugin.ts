import { validate } from 'graphql';
import type { FastifyPluginAsync } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import mercurius from 'mercurius';
import type { GraphqlContext } from './context';
import { contextOf } from './context';
import type { GraphqlDeps } from './deps';
import { errorFormatter, type ToApiError } from './errors';
import { JsonScalar } from './json-scalar';
import { subscriptionRules, validationRules, type GraphqlLimits } from './limits';
import { loaders } from './loaders';
import { mutationResolvers } from './resolvers/mutations';
import { queryResolvers } from './resolvers/queries';
import { typeDefs } from './schema';
import { subscriptionOptions, subscriptionResolvers, trackConnections } from './subscriptions';

export const GRAPHQL_PATH = '/graphql';

export interface GraphqlPluginOptions extends GraphqlDeps {
  limits: GraphqlLimits;
  /** app.ts' mapping of Fastify and NATS errors to coded ones (the same answers as REST's). */
  toApiError: ToApiError;
}

/** Tokens of one GraphQL document at most (parsing is bounded before validation runs). */
const MAX_TOKENS = 5000;

/** A subscription socket's largest message (a `subscribe` carries one document and its variables). */
const MAX_WS_MESSAGE_BYTES = 64 * 1024;

/**
 * `/graphql` (POST, and GET for queries) over mercurius and graphql 16: the schema of
 * schema.ts, resolved from the read layer and command client REST uses. Authentication, rate
 * limits and the tenant come from the gateway's auth hook (auth/plugin.ts, as for `/v1`);
 * scopes are checked per field. GraphiQL is served by graphiql.ts, not mercurius (no CDN).
 */
export const graphqlPlugin: FastifyPluginAsync<GraphqlPluginOptions> = async (app, opts) => {
  const { limits, toApiError, ...deps } = opts;
  const subscription = subscriptionOptions(deps);
  // Registered here (mercurius reuses it) for a bounded message size and our connection
  // bookkeeping: the connection_init timeout and the gateway-wide connection bound.
  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_WS_MESSAGE_BYTES } });
  trackConnections(app.websocketServer, deps);
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: {
      JSON: JsonScalar,
      Query: queryResolvers,
      Mutation: mutationResolvers,
      Subscription: subscriptionResolvers(deps),
    } as never,
    loaders: loaders as never,
    path: GRAPHQL_PATH,
    graphiql: false,
    ide: false,
    // validationRules as a function (they need the variables) rules out mercurius' query cache.
    cache: false,
    validationRules: validationRules(limits) as never,
    graphql: { parseOptions: { maxTokens: MAX_TOKENS } },
    context: contextOf(deps) as never,
    errorFormatter: errorFormatter(toApiError) as never,
    ...(subscription ? { subscription } : {}),
  } as never);
  // mercurius runs the validation rules for queries and mutations only: a subscription's document
  // gets the depth limit and the introspection switch before it starts (refused with their code).
  const rules = subscriptionRules(limits);
  app.graphql.addHook('preSubscriptionExecution', async (schema, document) => {
    const errors = validate(schema, document, rules);
    if (errors.length > 0) throw errors[0];
  });
};

export type { GraphqlContext };
