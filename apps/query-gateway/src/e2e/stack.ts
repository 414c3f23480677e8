import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import {
  ContractChecker,
  createCbClient,
  type CbClient,
  type Middleware,
  type components,
} from '@cb/client';
import type { Naming } from '@cb/subjects';
import {
  adminAuthorization,
  deploymentEnv,
  loadFixtureWorkflow,
  startServiceStack,
  startTestCluster,
  startTestNats,
  uniqueNaming,
  type FixtureWorkflowName,
  type ServiceProcess,
  type TestCluster,
  type TestNats,
} from '@cb/testing';

/**
 * A private nats-server (or, with `cluster`, a JetStream cluster of local nodes) plus the
 * services as real processes, for end-to-end tests.
 */
export interface E2eStack<N extends TestNats | TestCluster = TestNats> {
  nats: N;
  naming: Naming;
  nc: NatsConnection;
  jsm: JetStreamManager;
  baseUrl: string;
  command: ServiceProcess;
  gateway: ServiceProcess;
  projections: ServiceProcess[];
  env: Record<string, string>;
  /** `Bearer <CB_ADMIN_KEY>`: the root credential of the stack. */
  authorization: string;
  /** The typed client (@cb/client) of the gateway, as the root credential; answers are contract-checked. */
  client: CbClient;
  /** Creates a token through `client` (expects 201). */
  createToken(
    workflowId: string,
    body?: components['schemas']['CreateTokenBody'],
  ): Promise<components['schemas']['Token']>;
  /** One HTTP call to the gateway (see `api`) as the root credential, unless `headers` has an `authorization`. */
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  /** Messages stored on one subject (counts events without consuming). */
  countOn(subject: string): Promise<number>;
  /** Stops everything, then fails if an answer broke the contract (see `contractChecker`). */
  stop(): Promise<void>;
}

/**
 * Issue 13, deliverable 1 (contract replay): every answer of an e2e run — through `api`, `call`
 * or `client` — is checked against the OpenAPI document the gateway serves (status, headers,
 * body); `stop()` fails the suite on any violation. One per test file (Jest isolates modules).
 */
let contract: ContractChecker | undefined;

/** The checker of this test file's traffic (undefined before a stack started). */
export function contractChecker(): ContractChecker | undefined {
  return contract;
}

async function startContract(baseUrl: string): Promise<void> {
  if (contract) return;
  const res = await fetch(`${baseUrl}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  contract = new ContractChecker(
    (await res.json()) as ConstructorParameters<typeof ContractChecker>[0],
  );
}

function assertContract(): void {
  const violations = contract?.violations.splice(0) ?? [];
  if (violations.length > 0) {
    throw new Error(
      `${violations.length} answers break the OpenAPI contract:\n${violations.join('\n')}`,
    );
  }
}

/** A typed client of the gateway at `baseUrl` as `authorization`; its answers are contract-checked. */
export function clientOf(baseUrl: string, authorization?: string): CbClient {
  return createCbClient(baseUrl, {
    ...(authorization !== undefined ? { authorization } : {}),
    middleware: [contractMiddleware],
  });
}

/** Creates a token through the typed client; anything but 201 fails the test. */
async function createTokenWith(
  client: CbClient,
  workflowId: string,
  body: components['schemas']['CreateTokenBody'] = {},
): Promise<components['schemas']['Token']> {
  const { data, response } = await client.POST('/v1/workflows/{workflowId}/tokens', {
    params: { path: { workflowId } },
    body,
  });
  expect(response.status).toBe(201);
  return data!;
}

/** Checks every answer the typed client gets. */
const contractMiddleware: Middleware = {
  async onResponse({ request, response }) {
    const url = new URL(request.url);
    contract?.check({
      method: request.method,
      url: url.pathname + url.search,
      status: response.status,
      headers: response.headers,
      text: await response.clone().text(),
    });
    return undefined;
  },
};

export interface E2eStackOptions {
  /** Projection workers to run (default 0: write-path tests need none). */
  projectionWorkers?: number;
  /** Fixture workflows to define once the stack is up (each must answer 201). */
  workflows?: FixtureWorkflowName[];
  /**
   * Run on a JetStream cluster of this many local nats-server nodes (`startTestCluster`, e.g.
   * 3) instead of one server: NATS_URL lists every node and CB_STREAM_REPLICAS is the node
   * count (at most 5, JetStream's limit), unless `extraEnv` sets it.
   */
  cluster?: number;
}

/** JetStream's largest replica count. */
const MAX_REPLICAS = 5;

export function startE2eStack(
  extraEnv: Record<string, string>,
  options: E2eStackOptions & { cluster: number },
): Promise<E2eStack<TestCluster>>;
export function startE2eStack(
  extraEnv?: Record<string, string>,
  options?: E2eStackOptions & { cluster?: undefined },
): Promise<E2eStack>;
export async function startE2eStack(
  extraEnv: Record<string, string> = {},
  options: E2eStackOptions = {},
): Promise<E2eStack<TestNats | TestCluster>> {
  const nats = options.cluster
    ? await startTestCluster({ nodes: options.cluster })
    : await startTestNats();
  const replicas: Record<string, string> = options.cluster
    ? { CB_STREAM_REPLICAS: String(Math.min(options.cluster, MAX_REPLICAS)) }
    : {};
  const naming = uniqueNaming();
  const env = deploymentEnv(nats.url, naming, { LOG_LEVEL: 'info', ...replicas, ...extraEnv });
  const services = await startServiceStack(env, options).catch(async (err: unknown) => {
    await nats.dispose();
    throw err;
  });
  const root = adminAuthorization(env);
  await startContract(services.gatewayUrl).catch(async (err: unknown) => {
    await services.stop();
    await nats.dispose();
    throw err;
  });
  for (const name of options.workflows ?? []) {
    const res = await api(
      services.gatewayUrl,
      'POST',
      '/v1/workflows',
      loadFixtureWorkflow(name),
      root,
    );
    if (res.status !== 201) {
      await services.stop();
      await nats.dispose();
      throw new Error(`defining fixture ${name} answered ${res.status}: ${res.text}`);
    }
  }
  const client = clientOf(services.gatewayUrl, root.authorization);
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  return {
    nats,
    naming,
    nc,
    jsm,
    baseUrl: services.gatewayUrl,
    command: services.command,
    gateway: services.gateway!,
    projections: services.projections,
    env,
    authorization: root.authorization,
    client,
    createToken: (workflowId, body) => createTokenWith(client, workflowId, body),
    call: (method, path, body, headers) =>
      api(services.gatewayUrl, method, path, body, { ...root, ...headers }) as never,
    async countOn(subject) {
      const info = await jsm.streams.info(naming.stream, { subjects_filter: subject });
      return info.state.subjects?.[subject] ?? 0;
    },
    async stop() {
      await nc.close();
      await services.stop();
      await nats.dispose();
      assertContract();
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call; the body is parsed when it is JSON. */
export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, init);
  const text = await res.text();
  contract?.check({ method, url: path, status: res.status, headers: res.headers, text });
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** What the typed client answers (`{ data, error, response }` of openapi-fetch). */
export interface ClientAnswer {
  error?: unknown;
  response: Response;
}

/** A problem+json error with this status and code, and never a stack trace. */
export function expectProblem(res: ApiResponse | ClientAnswer, status: number, code: string): void {
  const answer =
    'response' in res
      ? { status: res.response.status, headers: res.response.headers, body: res.error as never }
      : res;
  const body = answer.body as { code?: unknown } | undefined;
  expect({ status: answer.status, code: body?.code }).toEqual({ status, code });
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect('text' in answer ? answer.text : JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
}
