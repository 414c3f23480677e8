import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi';

export type { components, operations, paths } from './openapi';
export type { Middleware } from 'openapi-fetch';

/** A typed client of the Circuit Breaker API: every path, parameter, body and answer of /openapi.json. */
export type CbClient = Client<paths>;

export interface CbClientOptions {
  /** The `Authorization` header of every request, e.g. `Bearer cb_<id>_<secret>`. */
  authorization?: string;
  /** Other headers of every request. */
  headers?: Record<string, string>;
  /** Another fetch (tests); the global one by default. */
  fetch?: ClientOptions['fetch'];
  /** Middleware for every request and answer (e.g. a contract check). */
  middleware?: readonly Middleware[];
}

/**
 * The generated client (openapi-fetch over the types openapi-typescript writes from the
 * document). Query objects are sent `form`-exploded, as the document declares them: the search's
 * `metadata: { 'metadata.region': 'eu' }` is `?metadata.region=eu`.
 */
export function createCbClient(baseUrl: string, options: CbClientOptions = {}): CbClient {
  const client = createClient<paths>({
    baseUrl,
    headers: {
      ...options.headers,
      ...(options.authorization !== undefined ? { authorization: options.authorization } : {}),
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    querySerializer: {
      array: { style: 'form', explode: true },
      object: { style: 'form', explode: true },
    },
  });
  if (options.middleware) client.use(...options.middleware);
  return client;
}

export { ContractChecker, type Exchange } from './contract';
