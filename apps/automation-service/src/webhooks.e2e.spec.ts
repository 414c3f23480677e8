import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Webhook } from 'standardwebhooks';
import { directGet, RequestMux } from '@cb/nats';
import type { WebhookDelivery } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import {
  adminAuthorization,
  deploymentEnv,
  startAutomationWorker,
  startServiceStack,
  startTestNats,
  stopAll,
  uniqueNaming,
  waitFor,
  type ServiceStack,
  type ServiceWithOps,
  type TestNats,
} from '@cb/testing';

jest.setTimeout(180_000);

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  seq: number;
  eventId: string;
  type: string;
}

/** Issue 15: webhooks get a workflow's events in order, signed, at least once, safely. */
describe('webhook deliveries (services as processes)', () => {
  let nats: TestNats;
  let naming: Naming;
  let env: Record<string, string>;
  let stack: ServiceStack;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let mux: RequestMux;
  let receiver: Server;
  let receiverUrl: string;
  const workers: ServiceWithOps[] = [];
  /** Requests per receiver path, in arrival order. */
  const received = new Map<string, Received[]>();
  /** How each receiver path answers its n-th request (0-based); default 200. */
  const answers = new Map<string, (n: number, res: ServerResponse) => void>();

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: {
        ...adminAuthorization(env),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  const define = async (id: string): Promise<void> => {
    const res = await call('POST', '/v1/workflows', {
      id,
      name: id,
      places: ['a', 'b', 'c'],
      initialPlace: 'a',
      finalPlaces: ['c'],
      transitions: [
        { id: 'ab', from: ['a'], to: 'b' },
        { id: 'bc', from: ['b'], to: 'c' },
      ],
    });
    expect(res.status).toBe(201);
  };

  const create = async (workflowId: string, id: string): Promise<void> => {
    expect(
      (await call('POST', `/v1/workflows/${workflowId}/tokens`, { id, data: { n: 1 } })).status,
    ).toBe(201);
  };
  const fire = async (workflowId: string, id: string, transition: string): Promise<void> => {
    expect(
      (await call('POST', `/v1/workflows/${workflowId}/tokens/${id}/fire`, { transition })).status,
    ).toBe(200);
  };

  /** A webhook of `workflowId` to this receiver's `path`, registered through the gateway. */
  const register = async (
    workflowId: string,
    path: string,
  ): Promise<{ id: string; secret: string }> => {
    received.set(path, []);
    const res = await call('POST', '/v1/webhooks', { url: `${receiverUrl}${path}`, workflowId });
    expect(res.status).toBe(201);
    const { id, secret } = res.body as { id: string; secret: string };
    // The registration reaches the automation through the webhooks projection: deliveries
    // start from the event after it, whenever the worker sees it.
    const kv = await new Kvm(js).open(naming.webhooksBucket);
    await waitFor(
      async () => ((await kv.get(naming.webhookKey('default', id))) ? true : undefined),
      {
        timeoutMs: 10_000,
        description: 'the webhook projected',
      },
    );
    return { id, secret };
  };

  /** Every message of `stream` on `filter`, in stream order (nothing consumed). */
  const scan = async <T>(stream: string, filter: string): Promise<{ seq: number; value: T }[]> => {
    const out: { seq: number; value: T }[] = [];
    for (let seq = 1; ;) {
      const m = await directGet(mux, stream, { seq, next_by_subj: filter });
      if (!m) return out;
      out.push({ seq: m.seq, value: JSON.parse(new TextDecoder().decode(m.data)) as T });
      seq = m.seq + 1;
    }
  };

  /** The token events of a workflow on the stream, in stream order. */
  const streamEvents = async (workflowId: string): Promise<{ seq: number; eventId: string }[]> =>
    (
      await scan<{ eventId: string }>(
        naming.stream,
        naming.webhookTokenFilter('default', workflowId),
      )
    ).map((m) => ({ seq: m.seq, eventId: m.value.eventId }));

  const attempts = async (hookId: string): Promise<WebhookDelivery[]> =>
    (
      await scan<WebhookDelivery>(
        naming.webhookDeliveriesStream,
        naming.webhookDeliverySubject('default', hookId),
      )
    ).map((m) => m.value);

  const uniqueInOrder = (list: Received[]): number[] => {
    const seen = new Set<number>();
    const order: number[] = [];
    for (const r of list) {
      if (!seen.has(r.seq)) order.push(r.seq);
      seen.add(r.seq);
    }
    return order;
  };

  const startWorker = async (extra: Record<string, string> = {}): Promise<ServiceWithOps> => {
    const worker = await startAutomationWorker({ ...env, ...extra });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        const list = received.get(path) ?? [];
        received.set(path, list);
        const parsed = JSON.parse(body) as {
          seq: number;
          event: { eventId: string; type: string };
        };
        list.push({
          headers: req.headers,
          body,
          seq: parsed.seq,
          eventId: parsed.event.eventId,
          type: parsed.event.type,
        });
        const answer = answers.get(path);
        if (answer) answer(list.length - 1, res);
        else res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    nats = await startTestNats();
    naming = uniqueNaming();
    env = deploymentEnv(nats.url, naming, {
      AUTOMATION_LEASE_TTL_MS: '2000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_MAX_ATTEMPTS: '5',
      WEBHOOK_FAILING_AFTER: '3',
    });
    stack = await startServiceStack(env, { projectionWorkers: 1 });
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    mux = new RequestMux(nc);
    await startWorker();
  });

  afterAll(async () => {
    await nc?.close();
    await stopAll(workers);
    await stack?.stop();
    await nats?.dispose();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('a local receiver gets every event of a workflow, in stream order, signed (Standard Webhooks)', async () => {
    await define('hooked');
    const { secret } = await register('hooked', '/all');
    await create('hooked', 't1');
    await create('hooked', 't2');
    await fire('hooked', 't1', 'ab');
    await fire('hooked', 't2', 'ab');
    await fire('hooked', 't1', 'bc');
    const expected = await streamEvents('hooked');
    expect(expected).toHaveLength(5);
    const got = await waitFor(
      () => (received.get('/all')!.length >= 5 ? received.get('/all')! : undefined),
      {
        timeoutMs: 10_000,
        description: '5 deliveries',
      },
    );
    expect(got.map((r) => r.seq)).toEqual(expected.map((e) => e.seq));
    expect(got.map((r) => r.headers['webhook-id'])).toEqual(expected.map((e) => e.eventId));
    expect(got.map((r) => r.type)).toEqual([
      'token.created.v1',
      'token.created.v1',
      'token.transitioned.v1',
      'token.transitioned.v1',
      'token.transitioned.v1',
    ]);
    const wh = new Webhook(secret);
    for (const r of got) {
      expect(r.headers['user-agent']).toBe('CircuitBreaker-Webhooks/1');
      expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual(JSON.parse(r.body));
    }
  });

  it('a receiver answering 500 three times then 200 gets the event 4 times with the same webhook-id', async () => {
    await define('flaky');
    answers.set('/flaky', (n, res) => res.writeHead(n < 3 ? 500 : 200).end());
    const { id } = await register('flaky', '/flaky');
    await create('flaky', 'f1');
    const got = await waitFor(
      () => (received.get('/flaky')!.length >= 4 ? received.get('/flaky')! : undefined),
      {
        timeoutMs: 15_000,
        description: '4 attempts',
      },
    );
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(got).toHaveLength(4);
    const log = await waitFor(
      async () => {
        const list = await attempts(id);
        return list.length >= 4 ? list : undefined;
      },
      { timeoutMs: 5000, description: '4 attempts logged' },
    );
    expect(log.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'failed', 500],
      [4, 'delivered', 200],
    ]);
    const status = await waitFor(
      async () => {
        const kv = await new Kvm(js).open(naming.webhookStatusBucket);
        const e = await kv.get(naming.webhookKey('default', id));
        const v = e?.json<{ delivered: number }>();
        return v && v.delivered >= 1 ? v : undefined;
      },
      { timeoutMs: 5000, description: 'the status' },
    );
    expect(status).toMatchObject({
      state: 'active',
      consecutiveFailures: 0,
      delivered: 1,
      lastError: 'HTTP 500',
    });
    expect(status).not.toHaveProperty('pending');
  });

  it('an event failing WEBHOOK_MAX_ATTEMPTS times is dead-lettered with its attempts; the webhook is reported failing, then goes on', async () => {
    await define('dead');
    answers.set('/dead', (n, res) => res.writeHead(n < 5 ? 503 : 204).end());
    const { id } = await register('dead', '/dead');
    await create('dead', 'x1');
    await create('dead', 'x2');
    const [first, second] = await streamEvents('dead');
    // Reported while it fails (3 consecutive failures: WEBHOOK_FAILING_AFTER).
    const failing = await waitFor(
      async () => {
        const res = await call('GET', `/v1/webhooks/${id}`);
        const status = res.body.status as { state: string; consecutiveFailures: number };
        return status.state === 'failing' ? status : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'the webhook reported failing' },
    );
    expect(failing.consecutiveFailures).toBeGreaterThanOrEqual(3);
    const got = await waitFor(
      () => (received.get('/dead')!.length >= 6 ? received.get('/dead')! : undefined),
      { timeoutMs: 15_000, description: '5 attempts of the first event, then the second' },
    );
    expect(got.map((r) => r.seq)).toEqual([...Array(5).fill(first!.seq), second!.seq]);
    const log = await attempts(id);
    expect(log.map((a) => [a.seq, a.attempt, a.outcome])).toEqual([
      ...[1, 2, 3, 4].map((n) => [first!.seq, n, 'failed']),
      [first!.seq, 5, 'dead-lettered'],
      [second!.seq, 1, 'delivered'],
    ]);
    // The event itself is kept on the dead-letter stream, with why and after how many attempts.
    const letter = await directGet(mux, naming.deadLetterStream, {
      seq: 1,
      next_by_subj: naming.webhookDeadLetterSubject('default', id),
    });
    expect(letter).not.toBeNull();
    expect(JSON.parse(new TextDecoder().decode(letter!.data))).toMatchObject({
      eventId: first!.eventId,
      type: 'token.created.v1',
    });
    expect(letter!.header!.get('Cb-Dlq-Seq')).toBe(String(first!.seq));
    expect(letter!.header!.get('Cb-Dlq-Attempts')).toBe('5');
    expect(letter!.header!.get('Cb-Dlq-Reason')).toBe('HTTP 503');
    const after = await call('GET', `/v1/webhooks/${id}`);
    expect(after.body.status).toMatchObject({
      state: 'active',
      consecutiveFailures: 0,
      delivered: 1,
      deadLettered: 1,
    });
  });

  it('a deleted webhook is stopped and its consumer removed; its status stays', async () => {
    await define('deleted');
    const { id } = await register('deleted', '/deleted');
    await create('deleted', 'd1');
    await waitFor(() => (received.get('/deleted')!.length >= 1 ? true : undefined), {
      timeoutMs: 10_000,
      description: 'the first delivery',
    });
    const consumer = naming.webhookDeliveryConsumer('default', id);
    expect((await jsm.consumers.info(naming.stream, consumer)).name).toBe(consumer);
    expect((await call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    await waitFor(
      () =>
        jsm.consumers.info(naming.stream, consumer).then(
          () => undefined,
          () => true,
        ),
      { timeoutMs: 10_000, description: 'the consumer removed' },
    );
    const status = await (
      await new Kvm(js).open(naming.webhookStatusBucket)
    ).get(naming.webhookKey('default', id));
    expect(status?.json()).toMatchObject({ state: 'active', delivered: 1 });
  });

  it('the automation worker SIGKILLed mid-delivery loses nothing: every event arrives afterwards, in order', async () => {
    await define('killed');
    // Slow answers: a delivery is in flight when the worker dies.
    answers.set('/killed', (_n, res) => void setTimeout(() => res.writeHead(200).end(), 150));
    await register('killed', '/killed');
    for (let i = 0; i < 6; i++) await create('killed', `k${i}`);
    const expected = await streamEvents('killed');
    await waitFor(() => (received.get('/killed')!.length >= 2 ? true : undefined), {
      timeoutMs: 10_000,
      description: 'deliveries under way',
    });
    const killed = workers.shift()!;
    killed.kill('SIGKILL');
    await killed.waitExit(5000);
    const before = uniqueInOrder(received.get('/killed')!).length;
    expect(before).toBeLessThan(6);
    await startWorker();
    const order = await waitFor(
      () => {
        const o = uniqueInOrder(received.get('/killed')!);
        return o.length >= 6 ? o : undefined;
      },
      { timeoutMs: 20_000, description: 'every event after the restart' },
    );
    expect(order).toEqual(expected.map((e) => e.seq));
    // In order also with redeliveries: each arrival is the next event, or (after the kill) the
    // one in flight again; never a skip, never an older one.
    const index = received.get('/killed')!.map((r) => order.indexOf(r.seq));
    for (let i = 1; i < index.length; i++) {
      expect(index[i]! - index[i - 1]!).toBeGreaterThanOrEqual(0);
      expect(index[i]! - index[i - 1]!).toBeLessThanOrEqual(1);
    }
  });

  it('a private address is refused by default: a worker without the override records "refused"', async () => {
    await stopAll(workers.splice(0));
    await startWorker({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    await define('private');
    const { id } = await register('private', '/private');
    await create('private', 'p1');
    const log = await waitFor(
      async () => {
        const list = await attempts(id);
        return list.length >= 1 ? list : undefined;
      },
      { timeoutMs: 15_000, description: 'a refused attempt' },
    );
    expect(log[0]).toMatchObject({ outcome: 'refused', attempt: 1 });
    expect(log[0]?.error).toMatch(/private or reserved/);
    expect(received.get('/private')).toHaveLength(0);
  });
});
