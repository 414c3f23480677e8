import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { WebhookDelivery, WebhookEntry } from '@cb/schemas';
import { encodeJson } from '@cb/nats';
import { api, expectProblem, startE2eStack, type ApiResponse, type E2eStack } from './stack';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;

/** A public address literal: accepted without a DNS lookup (the machine may have no network). */
const TARGET = 'https://93.184.215.14/hooks/cb';

let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack({}, { projectionWorkers: 1 });
});

afterAll(async () => {
  await stack?.stop();
});

async function keyFor(tenant: string, scopes: string[]): Promise<string> {
  const res = await stack.call<{ key: string }>('POST', '/v1/admin/keys', { tenant, scopes });
  expect(res.status).toBe(201);
  return `Bearer ${res.body.key}`;
}

function as(authorization: string, method: string, path: string, body?: unknown) {
  return api<Json>(stack.baseUrl, method, path, body, { authorization });
}

async function create(body: Json, authorization = stack.authorization): Promise<ApiResponse> {
  return as(authorization, 'POST', '/v1/webhooks', body);
}

describe('issue 15, deliverable 3: webhook registry', () => {
  it('creates a webhook (secret shown once), lists, gets and deletes it; deleted is 404', async () => {
    const created = await create({
      url: TARGET,
      events: ['token.transitioned.v1'],
      workflowId: 'order_processing',
      description: 'shop',
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    expect(id).toMatch(/^wh_[0-9A-Za-z]{16}$/);
    expect(created.body).toMatchObject({
      url: TARGET,
      events: ['token.transitioned.v1'],
      workflowId: 'order_processing',
      description: 'shop',
      tenant: 'default',
      createdBy: { tenant: 'default', keyId: 'root' },
      status: { state: 'active', consecutiveFailures: 0, delivered: 0, deadLettered: 0 },
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.headers.get('location')).toBe(`/v1/webhooks/${id}`);
    expect(created.headers.get('cache-control')).toBe('no-store');

    const got = await stack.call('GET', `/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, url: TARGET, status: { state: 'active' } });
    expect(got.text).not.toContain('whsec_');
    const listed = await stack.call<{ items: Json[] }>('GET', '/v1/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((w) => w.id)).toContain(id);
    expect(listed.text).not.toContain('whsec_');

    expect((await stack.call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expectProblem(await stack.call('GET', `/v1/webhooks/${id}`), 404, 'WEBHOOK_NOT_FOUND');
    expectProblem(await stack.call('DELETE', `/v1/webhooks/${id}`), 404, 'WEBHOOK_NOT_FOUND');
    expectProblem(
      await stack.call('GET', `/v1/webhooks/${id}/deliveries`),
      404,
      'WEBHOOK_NOT_FOUND',
    );
    const after = await stack.call<{ items: Json[] }>('GET', '/v1/webhooks');
    expect(after.body.items.map((w) => w.id)).not.toContain(id);
    // Two events on its subject: registered, deleted.
    expect(await stack.countOn(stack.naming.webhookSubject('default', id))).toBe(2);
  });

  it("keeps tenants apart (another tenant's webhook is 404) and needs webhooks:admin", async () => {
    const mine = await create({ url: TARGET });
    const id = String(mine.body.id);
    const acme = await keyFor('acme', ['webhooks:admin']);
    expectProblem(await as(acme, 'GET', `/v1/webhooks/${id}`), 404, 'WEBHOOK_NOT_FOUND');
    expectProblem(await as(acme, 'DELETE', `/v1/webhooks/${id}`), 404, 'WEBHOOK_NOT_FOUND');
    expectProblem(await as(acme, 'GET', `/v1/webhooks/${id}/deliveries`), 404, 'WEBHOOK_NOT_FOUND');
    const acmeList = await as(acme, 'GET', '/v1/webhooks');
    expect(acmeList.body).toEqual({ items: [] });
    const acmeOwn = await create({ url: TARGET }, acme);
    expect(acmeOwn.body).toMatchObject({ tenant: 'acme' });
    expectProblem(
      await stack.call('GET', `/v1/webhooks/${String(acmeOwn.body.id)}`),
      404,
      'WEBHOOK_NOT_FOUND',
    );

    const reader = await keyFor('acme', ['read']);
    expectProblem(await as(reader, 'GET', '/v1/webhooks'), 403, 'FORBIDDEN');
    expectProblem(await create({ url: TARGET }, reader), 403, 'FORBIDDEN');
    expect((await stack.call('GET', `/v1/webhooks/${id}`)).status).toBe(200);
  });

  it('refuses private targets by default and bad input with a 400 and a code', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/',
      'http://[::1]/',
    ]) {
      expectProblem(await create({ url }), 400, 'WEBHOOK_TARGET_REFUSED');
    }
    for (const url of ['ftp://93.184.215.14/x', 'https://user:pw@93.184.215.14/', 'not a url']) {
      expectProblem(await create({ url }), 400, 'WEBHOOK_URL_INVALID');
    }
    for (const body of [
      { url: `https://93.184.215.14/${'a'.repeat(2048)}` },
      { url: TARGET, events: [] },
      { url: TARGET, events: ['workflow.defined.v1'] },
      { url: TARGET, events: ['token.created.v1', 'token.created.v1'] },
      { url: TARGET, workflowId: 'a.b' },
      { url: TARGET, description: 'x'.repeat(501) },
      { url: TARGET, secret: 'whsec_mine' },
      {},
    ]) {
      expectProblem(await create(body), 400, 'VALIDATION_ERROR');
    }
    expectProblem(await stack.call('GET', '/v1/webhooks/not-an-id'), 400, 'VALIDATION_ERROR');
    expectProblem(await stack.call('GET', '/v1/webhooks?limit=101'), 400, 'VALIDATION_ERROR');
    expectProblem(await stack.call('GET', '/v1/webhooks?cursor=xyz'), 400, 'VALIDATION_ERROR');
    expectProblem(
      await stack.call('POST', '/v1/webhooks', { url: TARGET }, { 'idempotency-key': 'k1' }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('lists recent delivery attempts newest first, paged by cursor', async () => {
    const id = String((await create({ url: TARGET })).body.id);
    const empty = await stack.call('GET', `/v1/webhooks/${id}/deliveries`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [] });
    // What the automation logs, one message per attempt.
    const js = jetstream(stack.nc);
    const attempt = (n: number): WebhookDelivery => ({
      webhookId: id,
      eventId: 'evt-1',
      seq: 42,
      eventType: 'token.created.v1',
      attempt: n,
      at: new Date(Date.now() + n).toISOString(),
      outcome: n < 3 ? 'failed' : 'delivered',
      ...(n < 3 ? { status: 500, error: 'HTTP 500' } : { status: 200 }),
      durationMs: 12,
    });
    for (const n of [1, 2, 3]) {
      await js.publish(stack.naming.webhookDeliverySubject('default', id), encodeJson(attempt(n)));
    }
    const first = await stack.call<{ items: Json[]; nextCursor?: string }>(
      'GET',
      `/v1/webhooks/${id}/deliveries?limit=2`,
    );
    expect(first.status).toBe(200);
    expect(first.body.items.map((d) => d.attempt)).toEqual([3, 2]);
    expect(first.body.items[0]).toMatchObject({ outcome: 'delivered', status: 200, seq: 42 });
    const second = await stack.call<{ items: Json[]; nextCursor?: string }>(
      'GET',
      `/v1/webhooks/${id}/deliveries?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((d) => d.attempt)).toEqual([1]);
    expect(second.body.nextCursor).toBeUndefined();
  });

  it('refuses a 101st live webhook of a tenant with 409 WEBHOOK_LIMIT', async () => {
    // A hundred registrations as the projection writes them (cheaper than a hundred requests).
    const kv = await new Kvm(stack.nc).open(stack.naming.webhooksBucket);
    for (let i = 0; i < 100; i++) {
      const id = `wh_Full${String(i).padStart(12, '0')}`;
      const entry: WebhookEntry = {
        id,
        tenant: 'full',
        url: TARGET,
        secret: `whsec_${'C'.repeat(32)}`,
        createdAt: new Date().toISOString(),
        createdBy: { tenant: 'full', keyId: 'root' },
        seq: 1,
      };
      await kv.put(stack.naming.webhookKey('full', id), encodeJson(entry));
    }
    const full = await keyFor('full', ['webhooks:admin']);
    const refused = await create({ url: TARGET }, full);
    expectProblem(refused, 409, 'WEBHOOK_LIMIT');
    expect(refused.body).toMatchObject({ limit: 100 });
    const page = await as(full, 'GET', '/v1/webhooks?limit=100');
    expect((page.body.items as Json[]).length).toBe(100);
    expect(page.body.nextCursor).toBeUndefined();
  });
});
