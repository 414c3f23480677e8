import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { components } from '@cb/client';
import { waitFor } from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

jest.setTimeout(120_000);

interface CreatedKey {
  id: string;
  key: string;
}

let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack(
    // A low depth limit (every subscription below is 3 deep) so one can be refused for it.
    { LOG_LEVEL: 'warn', GRAPHQL_MAX_DEPTH: '4' },
    { projectionWorkers: 1, workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

async function createKey(body: components['schemas']['CreateKeyBody']): Promise<CreatedKey> {
  const { data, error, response } = await stack.client.POST('/v1/admin/keys', { body });
  if (response.status !== 201) {
    throw new Error(`creating a key answered ${response.status}: ${JSON.stringify(error)}`);
  }
  return data!;
}

interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client of the stack's gateway, as `authorization`; records how its socket closed. */
function client(authorization: string | undefined): { ws: Client; closed: Promise<Closed> } {
  let onClosed: (c: Closed) => void = () => undefined;
  const closed = new Promise<Closed>((r) => (onClosed = r));
  const ws = createClient({
    url: `${stack.baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: authorization === undefined ? {} : { authorization },
    retryAttempts: 0,
    lazy: false,
    on: {
      closed: (event) => {
        const e = event as { code: number; reason: string | Buffer };
        onClosed({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return { ws, closed };
}

interface Received {
  data: Array<Record<string, Record<string, unknown>>>;
  errors: unknown[];
  at: number[];
  completed: boolean;
  stop: () => void;
}

/** Subscribe and collect what arrives (data with its arrival time, errors, completion). */
function subscribe(ws: Client, query: string, variables: Record<string, unknown>): Received {
  const got: Received = { data: [], errors: [], at: [], completed: false, stop: () => undefined };
  got.stop = ws.subscribe(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) got.errors.push(...value.errors);
        if (value.data) {
          got.data.push(value.data as Record<string, Record<string, unknown>>);
          got.at.push(Date.now());
        }
      },
      error: (err) => got.errors.push(...(Array.isArray(err) ? err : [err])),
      complete: () => (got.completed = true),
    },
  );
  return got;
}

const TOKEN_UPDATES = `subscription ($id: String!, $after: Int) {
  tokenUpdates(tokenId: $id, afterSeq: $after) { eventType seq timestamp source token { id place workflowId } }
}`;
const WORKFLOW_EVENTS = `subscription ($wf: String!, $after: Int) {
  workflowEvents(workflowId: $wf, afterSeq: $after) { eventType workflowId seq timestamp data }
}`;
const TOKEN_EVENTS = `subscription ($wf: String!, $place: String) {
  tokenEvents(workflowId: $wf, placeName: $place) { eventType seq token { id place } }
}`;

async function createToken(id: string): Promise<number> {
  const res = await stack.call<{ version: number }>(
    'POST',
    '/v1/workflows/document_review/tokens',
    {
      id,
    },
  );
  expect(res.status).toBe(201);
  // tokenUpdates finds the token's workflow in the read model (it has no minSeq argument).
  await waitFor(
    async () =>
      (await stack.call('GET', `/v1/workflows/document_review/tokens/${id}`)).status === 200,
    { timeoutMs: 5000 },
  );
  return res.body.version;
}

async function fire(tokenId: string, transition: string): Promise<{ version: number; at: number }> {
  const res = await stack.call<{ version: number }>(
    'POST',
    `/v1/workflows/document_review/tokens/${tokenId}/fire`,
    { transition },
  );
  expect(res.status).toBe(200);
  return { version: res.body.version, at: Date.now() };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

async function consumerCount(): Promise<number> {
  return (await stack.jsm.streams.info(stack.naming.stream)).state.consumer_count;
}

/** The subscription is live once its hub's consumer exists: the first fire after it arrives. */
async function live(consumers: number): Promise<void> {
  await waitFor(async () => (await consumerCount()) > consumers, { timeoutMs: 10_000 });
}

describe('GraphQL subscriptions (graphql-transport-ws)', () => {
  it('a fire reaches tokenUpdates, workflowEvents and tokenEvents within a second', async () => {
    await createToken('gql-live-1');
    const baseline = await consumerCount();
    const { ws } = client(stack.authorization);
    const updates = subscribe(ws, TOKEN_UPDATES, { id: 'gql-live-1' });
    const workflow = subscribe(ws, WORKFLOW_EVENTS, { wf: 'document_review' });
    const inPlace = subscribe(ws, TOKEN_EVENTS, { wf: 'document_review', place: 'pending_review' });
    await live(baseline + 1); // the token's hub and the workflow's hub
    await waitFor(async () => (await consumerCount()) === baseline + 2, { timeoutMs: 10_000 });

    const fired = await fire('gql-live-1', 'submit');
    await waitFor(async () => updates.data.length >= 1 && workflow.data.length >= 1, {
      timeoutMs: 5000,
    });
    expect(updates.errors).toEqual([]);
    const event = updates.data[0]!.tokenUpdates!;
    expect(event).toMatchObject({
      eventType: 'token.transitioned.v1',
      seq: fired.version,
      token: { id: 'gql-live-1', workflowId: 'document_review' },
    });
    expect(typeof event.timestamp).toBe('string');
    expect(typeof event.source).toBe('string');
    expect(updates.at[0]! - fired.at).toBeLessThan(1000);
    expect(workflow.data[0]!.workflowEvents).toMatchObject({
      eventType: 'token.transitioned.v1',
      workflowId: 'document_review',
      seq: fired.version,
      data: { tokenId: 'gql-live-1', transition: 'submit' },
    });
    expect(workflow.at[0]! - fired.at).toBeLessThan(1000);
    // submit goes draft → pending_review: the place's subscription sees the token arrive.
    await waitFor(async () => inPlace.data.length >= 1, { timeoutMs: 5000 });
    const place = inPlace.data[0]!.tokenEvents!.token as { place: string };
    expect(place.place).toBe('pending_review');

    // Completing them lets go of the hubs: no consumer is left behind.
    updates.stop();
    workflow.stop();
    inPlace.stop();
    await waitFor(async () => (await consumerCount()) === baseline, { timeoutMs: 10_000 });
    await ws.dispose();
  });

  it('afterSeq replays the events after it, then live ones, no gap, no duplicate', async () => {
    const created = await createToken('gql-resume');
    const a = await fire('gql-resume', 'submit');
    const b = await fire('gql-resume', 'review');
    const { ws } = client(stack.authorization);
    const resumed = subscribe(ws, TOKEN_UPDATES, { id: 'gql-resume', after: created });
    await waitFor(async () => resumed.data.length >= 2, { timeoutMs: 5000 });
    const c = await fire('gql-resume', 'reject');
    await waitFor(async () => resumed.data.length >= 3, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    expect(resumed.data.map((d) => d.tokenUpdates!.seq)).toEqual([a.version, b.version, c.version]);
    resumed.stop();
    await ws.dispose();
  });

  it('tenants and scopes hold as in REST; bad credentials are refused at connection_init', async () => {
    await createToken('gql-tenant');
    const other = await createKey({ tenant: 'someone-else', scopes: ['read'] });
    const writer = await createKey({ tenant: 'default', scopes: ['tokens:write'] });
    const restricted = await createKey({
      tenant: 'default',
      scopes: ['read'],
      workflows: ['order_processing'],
    });

    const codes = async (authorization: string, query: string, variables: object) => {
      const { ws } = client(authorization);
      const got = subscribe(ws, query, variables as Record<string, unknown>);
      await waitFor(async () => got.errors.length > 0 || got.data.length > 0, { timeoutMs: 5000 });
      await ws.dispose();
      return got.errors.map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
    };
    // Another tenant's key: the workflow and the token do not exist for it (as REST's 404).
    expect(await codes(`Bearer ${other.key}`, WORKFLOW_EVENTS, { wf: 'document_review' })).toEqual([
      'WORKFLOW_NOT_FOUND',
    ]);
    expect(await codes(`Bearer ${other.key}`, TOKEN_UPDATES, { id: 'gql-tenant' })).toEqual([
      'TOKEN_NOT_FOUND',
    ]);
    // A key restricted to other workflows: the same.
    expect(
      await codes(`Bearer ${restricted.key}`, WORKFLOW_EVENTS, { wf: 'document_review' }),
    ).toEqual(['WORKFLOW_NOT_FOUND']);
    expect(await codes(`Bearer ${restricted.key}`, TOKEN_UPDATES, { id: 'gql-tenant' })).toEqual([
      'TOKEN_NOT_FOUND',
    ]);
    // Without `read`: FORBIDDEN.
    expect(await codes(`Bearer ${writer.key}`, WORKFLOW_EVENTS, { wf: 'document_review' })).toEqual(
      ['FORBIDDEN'],
    );
    // A bad id is a validation error, not a wildcard.
    expect(await codes(stack.authorization, TOKEN_UPDATES, { id: '*' })).toEqual([
      'VALIDATION_ERROR',
    ]);

    // A subscription gets the depth limit of queries (5 deep here, the limit 4).
    expect(
      await codes(
        stack.authorization,
        `subscription ($id: String!) { tokenUpdates(tokenId: $id) { token { workflow { transitions { id } } } } }`,
        { id: 'gql-tenant' },
      ),
    ).toEqual(['QUERY_TOO_DEEP']);

    // Bad, missing and revoked credentials: the socket is closed at connection_init, 4403.
    const revoked = await createKey({ tenant: 'default', scopes: ['read'] });
    expect((await stack.call('DELETE', `/v1/admin/keys/${revoked.id}`)).status).toBe(204);
    for (const authorization of ['Bearer nope', undefined, `Bearer ${revoked.key}`]) {
      const { ws, closed } = client(authorization);
      const got = subscribe(ws, WORKFLOW_EVENTS, { wf: 'document_review' });
      const { code, reason } = await closed;
      expect(code).toBe(4403);
      expect(reason).toMatch(/^UNAUTHENTICATED/);
      expect(got.data).toEqual([]);
      await ws.dispose();
    }
  });

  it('a socket that never sends connection_init is closed (4408); subscriptions per connection are bounded', async () => {
    const raw = new WebSocket(
      `${stack.baseUrl.replace(/^http/, 'ws')}/graphql`,
      'graphql-transport-ws',
    );
    const closed = await new Promise<number>((resolve) =>
      raw.on('close', (code: number) => resolve(code)),
    );
    expect(closed).toBe(4408);

    const baseline = await metric('cb_live_event_subscriptions');
    const { ws } = client(stack.authorization);
    const many = Array.from({ length: 21 }, () =>
      subscribe(ws, WORKFLOW_EVENTS, { wf: 'document_review' }),
    );
    await waitFor(async () => many.some((m) => m.errors.length > 0), { timeoutMs: 10_000 });
    const refused = many.filter((m) => m.errors.length > 0);
    expect(refused).toHaveLength(1);
    expect((refused[0]!.errors[0] as { extensions: { code: string } }).extensions.code).toBe(
      'TOO_MANY_REQUESTS',
    );
    expect(await metric('cb_http_live_event_streams')).toBeGreaterThanOrEqual(20);
    // Closing the connection lets go of all of them.
    await ws.dispose();
    await waitFor(async () => (await metric('cb_live_event_subscriptions')) === baseline, {
      timeoutMs: 10_000,
    });
    await waitFor(async () => (await metric('cb_http_live_event_streams')) === 0, {
      timeoutMs: 10_000,
    });
  });
});
