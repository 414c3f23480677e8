import { connect, type NatsConnection } from '@nats-io/transport-node';
import { guardPoolSettingsOf } from '@cb/config';
import { createLogger } from '@cb/logging';
import { ensureInfrastructure, encodeJson, type Infrastructure } from '@cb/nats';
import type {
  CommandReply,
  CommandRequest,
  PrincipalRef,
  Token,
  TokenCommandResult,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { loadFixtureWorkflow, startTestNats, uniqueNaming, type TestNats } from '@cb/testing';
import type { CommandHandler } from './command-handler';
import { loadCommandServiceConfig } from './config';
import { createCommandService, type CommandService } from './service';

const logger = createLogger({ service: 'test', level: 'silent' });
const ROOT: PrincipalRef = { tenant: 'default', keyId: 'root' };

/** A request as the gateway sends it: in the default tenant unless it names a principal. */
function handle(request: Omit<CommandRequest, 'principal'> & { principal?: PrincipalRef }) {
  return handler.handle({ principal: ROOT, ...request });
}

let server: TestNats;
let nc: NatsConnection;
let naming: Naming;
let infra: Infrastructure;
let handler: CommandHandler;
let service: CommandService;

beforeAll(async () => {
  server = await startTestNats();
  nc = await connect({ servers: server.url });
  naming = uniqueNaming();
  infra = await ensureInfrastructure(
    nc,
    naming,
    { replicas: 1, duplicateWindowMs: 60_000 },
    logger,
  );
  service = createCommandService({
    nc,
    infra,
    naming,
    logger,
    maxRetries: 5,
    concurrency: 64,
    // No guard here is expensive: generous budgets, so a loaded machine's slow worker start
    // cannot fail a definition (it did once: the fixtures' beforeAll got a refusal).
    guards: guardPoolSettingsOf(
      loadCommandServiceConfig({ GUARD_COMPILE_TIMEOUT_MS: '20000', GUARD_TIMEOUT_MS: '5000' }),
    ),
    leaseTtlMs: 4000,
  });
  handler = service.handler;
  for (const name of ['document-review', 'article-publishing', 'order-processing'] as const) {
    const reply = await handle({
      command: { type: 'DefineWorkflow', mode: 'create', definition: loadFixtureWorkflow(name) },
    });
    expect(reply).toMatchObject({ ok: true });
  }
});

afterAll(async () => {
  await service?.stop();
  await nc?.close();
  await server?.dispose();
});

async function messages(): Promise<number> {
  return (await infra.jsm.streams.info(naming.stream)).state.messages;
}

function token(reply: CommandReply): Token {
  if (!reply.ok || reply.kind !== 'token')
    throw new Error(`expected a token, got ${JSON.stringify(reply)}`);
  return reply.token;
}

function code(reply: CommandReply): string {
  return reply.ok ? 'ok' : reply.error.code;
}

async function create(
  workflowId: string,
  extra: Partial<CommandRequest> = {},
  data?: Record<string, unknown>,
) {
  return token(
    await handle({
      command: { type: 'CreateToken', workflowId, ...(data ? { data } : {}) },
      ...extra,
    }),
  );
}

describe('definitions', () => {
  it('refuses a second definition with the same id and versions with PUT semantics', async () => {
    const def = loadFixtureWorkflow('document-review');
    expect(
      code(
        await handle({
          command: { type: 'DefineWorkflow', mode: 'create', definition: def },
        }),
      ),
    ).toBe('WORKFLOW_EXISTS');
    const wf = { ...def, id: 'versioned' };
    const v1 = await handle({
      command: { type: 'DefineWorkflow', mode: 'create', definition: wf },
    });
    expect(v1.ok && v1.kind === 'workflow' && v1.workflow.version).toBe(1);
    const old = await create('versioned');
    const v2def = { ...wf, transitions: wf.transitions.filter((t) => t.id !== 'submit') };
    const v2 = await handle({
      command: { type: 'DefineWorkflow', mode: 'version', definition: v2def },
    });
    expect(v2.ok && v2.kind === 'workflow' && v2.workflow.version).toBe(2);
    // A token keeps the version it was created with; a new token gets the new one.
    const fired = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'versioned',
        tokenId: old.id,
        transition: 'submit',
      },
    });
    expect(token(fired).place).toBe('pending_review');
    expect(token(fired).definitionVersion).toBe(1);
    const fresh = await create('versioned');
    expect(fresh.definitionVersion).toBe(2);
    const blocked = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'versioned',
        tokenId: fresh.id,
        transition: 'submit',
      },
    });
    expect(code(blocked)).toBe('TRANSITION_NOT_ENABLED');
  });

  it('rejects a new version of an unknown workflow and a stale If-Match on versions', async () => {
    const def = { ...loadFixtureWorkflow('document-review'), id: 'nowhere' };
    expect(
      code(
        await handle({
          command: { type: 'DefineWorkflow', mode: 'version', definition: def },
        }),
      ),
    ).toBe('WORKFLOW_NOT_FOUND');
    const base = { ...def, id: 'guarded_versions' };
    await handle({ command: { type: 'DefineWorkflow', mode: 'create', definition: base } });
    const stale = await handle({
      command: { type: 'DefineWorkflow', mode: 'version', definition: base },
      expectedVersion: 7,
    });
    expect(code(stale)).toBe('VERSION_MISMATCH');
    const fine = await handle({
      command: { type: 'DefineWorkflow', mode: 'version', definition: base },
      expectedVersion: 1,
    });
    expect(code(fine)).toBe('ok');
  });
});

describe('optimistic concurrency', () => {
  it('30 concurrent fires with the same expected version: one succeeds, 29 VERSION_MISMATCH, one event', async () => {
    const t = await create('document_review');
    const before = await messages();
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        handle({
          command: {
            type: 'FireTransition',
            workflowId: 'document_review',
            tokenId: t.id,
            transition: 'submit',
          },
          expectedVersion: t.version,
        }),
      ),
    );
    const codes = replies.map(code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'VERSION_MISMATCH')).toHaveLength(29);
    expect(await messages()).toBe(before + 1);
  });

  it('30 concurrent submits without If-Match: one succeeds, the rest see the token moved, one event', async () => {
    const t = await create('document_review');
    const before = await messages();
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        handle({
          command: {
            type: 'FireTransition',
            workflowId: 'document_review',
            tokenId: t.id,
            transition: 'submit',
          },
        }),
      ),
    );
    const codes = replies.map(code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'TRANSITION_NOT_ENABLED')).toHaveLength(29);
    expect(await messages()).toBe(before + 1);
  });

  it('concurrent updates without If-Match apply on fresh state (retries): no update is lost', async () => {
    const t = await create('document_review');
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        handle({
          command: {
            type: 'UpdateToken',
            workflowId: 'document_review',
            tokenId: t.id,
            data: { [`k${i}`]: i },
          },
        }),
      ),
    );
    // Each either applied on fresh state or gave up after the bounded retries: no lost update.
    expect(replies.map(code).every((c) => c === 'ok' || c === 'CONFLICT')).toBe(true);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(1);
    const last = await handle({
      command: {
        type: 'UpdateToken',
        workflowId: 'document_review',
        tokenId: t.id,
        data: { done: true },
      },
    });
    const okCount = replies.filter((r) => r.ok).length;
    expect(Object.keys(token(last).data)).toHaveLength(okCount + 1);
  });
});

describe('idempotency', () => {
  it('the same create ten times with one key: one event, ten identical results', async () => {
    const before = await messages();
    const request: CommandRequest = {
      command: { type: 'CreateToken', workflowId: 'order_processing', data: { n: 1 } },
      idempotencyKey: 'create-once',
      principal: ROOT,
    };
    const replies: CommandReply[] = [];
    for (let i = 0; i < 10; i++) replies.push(await handler.handle(request));
    const tokens = replies.map(token);
    expect(new Set(tokens.map((t) => JSON.stringify(t))).size).toBe(1);
    expect(await messages()).toBe(before + 1);
  });

  it('the same fire ten times concurrently with one key: one event, identical results', async () => {
    const t = await create('document_review');
    const before = await messages();
    const request: CommandRequest = {
      command: {
        type: 'FireTransition',
        workflowId: 'document_review',
        tokenId: t.id,
        transition: 'submit',
      },
      idempotencyKey: `fire-${t.id}`,
      principal: ROOT,
    };
    const replies = await Promise.all(Array.from({ length: 10 }, () => handler.handle(request)));
    expect(replies.map(code)).toEqual(Array(10).fill('ok'));
    expect(new Set(replies.map((r) => JSON.stringify(token(r)))).size).toBe(1);
    expect(await messages()).toBe(before + 1);
    // A retry after the token moved on still gets the original result, not an error.
    await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'document_review',
        tokenId: t.id,
        transition: 'review',
      },
    });
    const late = await handler.handle(request);
    expect(token(late)).toEqual(token(replies[0]!));
  });

  it('refuses a reused key with a different request', async () => {
    const t = await create('document_review', {}, { a: 1 });
    const first = await handle({
      command: {
        type: 'UpdateToken',
        workflowId: 'document_review',
        tokenId: t.id,
        data: { a: 2 },
      },
      idempotencyKey: 'reused',
    });
    expect(code(first)).toBe('ok');
    const second = await handle({
      command: {
        type: 'UpdateToken',
        workflowId: 'document_review',
        tokenId: t.id,
        data: { a: 3 },
      },
      idempotencyKey: 'reused',
    });
    expect(code(second)).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('tokens', () => {
  it('merge-patches data on fire and records the patch in the event', async () => {
    const t = await create('document_review', {}, { a: 1 });
    const fired = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'document_review',
        tokenId: t.id,
        transition: 'submit',
        data: { b: 2 },
      },
    });
    const after = token(fired);
    expect(after.data).toEqual({ a: 1, b: 2 });
    const msg = await infra.jsm.direct.getMessage(naming.stream, { seq: after.version });
    expect(msg?.json()).toMatchObject({
      type: 'token.transitioned.v1',
      dataPatch: { b: 2 },
      from: 'draft',
      to: 'pending_review',
    });
  });

  it('evaluates a guard once for a rejection decided on a cached state that is current', async () => {
    const evaluations = async (): Promise<number> => {
      const metric = await service.metrics.registry
        .getSingleMetric('cb_guard_evaluations_total')
        ?.get();
      return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    };
    // Created by this handler, so its state is cached.
    const short = await create('article_publishing', {}, { title: 't', content: 'c' });
    const before = await evaluations();
    const blocked = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'article_publishing',
        tokenId: short.id,
        transition: 'submit',
      },
    });
    expect(code(blocked)).toBe('GUARD_FAILED');
    expect((await evaluations()) - before).toBe(1);
  });

  it('enforces guards with every failing path and lets the emergency branch publish', async () => {
    const short = await create(
      'article_publishing',
      {},
      { title: 't', content: 'c', word_count: 50 },
    );
    const blocked = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'article_publishing',
        tokenId: short.id,
        transition: 'submit',
      },
    });
    expect(code(blocked)).toBe('GUARD_FAILED');
    expect(!blocked.ok && blocked.error.details?.failures).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/data/word_count' })]),
    );
    const long = await create(
      'article_publishing',
      {},
      { title: 't', content: 'c', word_count: 150 },
    );
    const fire = (id: string, transition: string, metadata?: Record<string, unknown>) =>
      handle({
        command: {
          type: 'FireTransition',
          workflowId: 'article_publishing',
          tokenId: id,
          transition,
          ...(metadata ? { metadata } : {}),
        },
      });
    expect(code(await fire(long.id, 'submit'))).toBe('ok');
    expect(code(await fire(long.id, 'approve', { reviewer: 'ann' }))).toBe('ok');
    expect(code(await fire(long.id, 'publish'))).toBe('GUARD_FAILED');
    const published = await fire(long.id, 'publish', { emergency: true });
    expect(token(published).place).toBe('published');
  });

  it('keeps token ids unique across workflows and never reuses a deleted id', async () => {
    const t = token(
      await handle({
        command: { type: 'CreateToken', workflowId: 'document_review', tokenId: 'unique-1' },
      }),
    );
    expect(t.id).toBe('unique-1');
    const elsewhere = await handle({
      command: { type: 'CreateToken', workflowId: 'order_processing', tokenId: 'unique-1' },
    });
    expect(code(elsewhere)).toBe('TOKEN_EXISTS');
    const deleted = await handle({
      command: { type: 'DeleteToken', workflowId: 'document_review', tokenId: 'unique-1' },
    });
    expect(deleted.ok && (deleted as TokenCommandResult).deleted).toBe(true);
    expect(
      code(
        await handle({
          command: {
            type: 'FireTransition',
            workflowId: 'document_review',
            tokenId: 'unique-1',
            transition: 'submit',
          },
        }),
      ),
    ).toBe('TOKEN_NOT_FOUND');
    expect(
      code(
        await handle({
          command: { type: 'CreateToken', workflowId: 'document_review', tokenId: 'unique-1' },
        }),
      ),
    ).toBe('TOKEN_EXISTS');
  });

  it('survives garbage published on a token subject', async () => {
    const t = await create('document_review', {}, { a: 1 });
    const ack = await infra.js.publish(
      naming.tokenSubject('default', 'document_review', t.id),
      encodeJson({ not: 'an event' }),
    );
    const fired = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'document_review',
        tokenId: t.id,
        transition: 'submit',
      },
      expectedVersion: t.version,
    });
    expect(token(fired).place).toBe('pending_review');
    expect(token(fired).version).toBeGreaterThan(ack.seq);
    expect(token(fired).data).toEqual({ a: 1 });
  });

  it('rejects data nested too deeply before doing anything with it', async () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const reply = await handle({
      command: { type: 'CreateToken', workflowId: 'document_review', data: deep },
    });
    expect(code(reply)).toBe('VALIDATION_ERROR');
  });
});

describe('tenants', () => {
  const ACME: PrincipalRef = { tenant: 'acme', keyId: 'AcmeKey000000001' };

  it('keeps workflows, token ids and idempotency keys apart per tenant', async () => {
    const def = loadFixtureWorkflow('document-review');
    // The same workflow id in another tenant is another workflow, at version 1.
    const defined = await handle({
      command: { type: 'DefineWorkflow', mode: 'create', definition: def },
      principal: ACME,
    });
    expect(defined.ok && defined.kind === 'workflow' && defined.workflow.version).toBe(1);

    const mine = await create('document_review', {}, { owner: 'default' });
    // Another tenant neither sees nor moves the token: not found, nothing written.
    const before = await messages();
    const foreign = await handle({
      command: {
        type: 'FireTransition',
        workflowId: 'document_review',
        tokenId: mine.id,
        transition: 'submit',
      },
      principal: ACME,
    });
    expect(code(foreign)).toBe('TOKEN_NOT_FOUND');
    expect(await messages()).toBe(before);

    // The same token id in both tenants: two tokens (ids are unique within a tenant only).
    const create2 = (principal: PrincipalRef) =>
      handle({
        command: { type: 'CreateToken', workflowId: 'document_review', tokenId: 'same-id' },
        principal,
      });
    expect(code(await create2(ROOT))).toBe('ok');
    expect(code(await create2(ACME))).toBe('ok');

    // One Idempotency-Key in two tenants: two commands, two tokens.
    const keyed = (principal: PrincipalRef) =>
      handle({
        command: { type: 'CreateToken', workflowId: 'document_review' },
        idempotencyKey: 'one-key-two-tenants',
        principal,
      });
    const a = token(await keyed(ROOT));
    const b = token(await keyed(ACME));
    expect(a.id).not.toBe(b.id);
    expect(token(await keyed(ACME)).id).toBe(b.id);
  });

  it('writes the tenant into the subject and the principal into the event', async () => {
    const t = token(
      await handle({
        command: { type: 'CreateToken', workflowId: 'document_review' },
        principal: ACME,
        triggeredBy: 'someone@acme',
      }),
    );
    const msg = await infra.jsm.streams.getMessage(naming.stream, {
      last_by_subj: naming.tokenSubject('acme', 'document_review', t.id),
    });
    expect(msg?.seq).toBe(t.version);
    const event = msg!.json<{ principal: PrincipalRef; triggeredBy: string }>();
    expect(event.principal).toEqual(ACME);
    expect(event.triggeredBy).toBe('someone@acme');
  });
});

describe('API keys', () => {
  const ADMIN: PrincipalRef = { tenant: 'acme', keyId: 'AdminKey00000001' };
  const key = {
    id: 'NewKey0000000001',
    tenant: 'acme',
    scopes: ['read' as const],
    hash: 'a'.repeat(64),
  };

  it('records who created and revoked a key, each as one event with the whole record', async () => {
    const subject = naming.apiKeySubject('acme', key.id);
    const created = await handle({ command: { type: 'CreateApiKey', key }, principal: ADMIN });
    expect(created).toMatchObject({
      ok: true,
      kind: 'apiKey',
      duplicate: false,
      key: { id: key.id, tenant: 'acme', scopes: ['read'], createdBy: ADMIN },
    });
    expect(created.ok && created.kind === 'apiKey' && 'hash' in created.key).toBe(false);
    // The same id again: refused, nothing written.
    expect(code(await handle({ command: { type: 'CreateApiKey', key }, principal: ADMIN }))).toBe(
      'CONFLICT',
    );
    const revoke = { type: 'RevokeApiKey' as const, tenant: 'acme', keyId: key.id };
    const revoked = await handle({ command: revoke, principal: ROOT });
    expect(revoked).toMatchObject({ ok: true, duplicate: false, key: { createdBy: ADMIN } });
    expect(revoked.ok && revoked.kind === 'apiKey' && revoked.key.revokedAt).toBeTruthy();
    // Revoking again changes nothing.
    expect(await handle({ command: revoke, principal: ROOT })).toMatchObject({
      ok: true,
      duplicate: true,
    });
    const info = await infra.jsm.streams.info(naming.stream, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(2);
    const last = await infra.jsm.streams.getMessage(naming.stream, { last_by_subj: subject });
    expect(last?.json()).toMatchObject({
      type: 'apikey.revoked.v1',
      principal: ROOT,
      tenant: 'acme',
      keyId: key.id,
      key: { hash: key.hash, createdBy: ADMIN },
    });
  });

  it('revoking a key that does not exist is KEY_NOT_FOUND', async () => {
    const reply = await handle({
      command: { type: 'RevokeApiKey', tenant: 'acme', keyId: 'NoSuchKey0000001' },
    });
    expect(code(reply)).toBe('KEY_NOT_FOUND');
  });
});

describe('webhooks', () => {
  const ADMIN: PrincipalRef = { tenant: 'acme', keyId: 'AdminKey00000001' };
  const webhook = {
    id: 'wh_NewHook000000001',
    tenant: 'acme',
    url: 'https://example.com/hook',
    secret: `whsec_${'B'.repeat(32)}`,
  };

  it('records who registered and deleted a webhook, each as one event with the whole record', async () => {
    const subject = naming.webhookSubject('acme', webhook.id);
    const created = await handle({ command: { type: 'CreateWebhook', webhook }, principal: ADMIN });
    expect(created).toMatchObject({
      ok: true,
      kind: 'webhook',
      duplicate: false,
      webhook: { ...webhook, createdBy: ADMIN },
    });
    // The same id again: refused, nothing written.
    expect(
      code(await handle({ command: { type: 'CreateWebhook', webhook }, principal: ADMIN })),
    ).toBe('CONFLICT');
    const remove = { type: 'DeleteWebhook' as const, tenant: 'acme', webhookId: webhook.id };
    const deleted = await handle({ command: remove, principal: ADMIN });
    expect(deleted).toMatchObject({ ok: true, duplicate: false, webhook: { createdBy: ADMIN } });
    expect(deleted.ok && deleted.kind === 'webhook' && deleted.webhook.deletedAt).toBeTruthy();
    // Deleting again changes nothing.
    expect(await handle({ command: remove, principal: ADMIN })).toMatchObject({
      ok: true,
      duplicate: true,
    });
    const info = await infra.jsm.streams.info(naming.stream, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(2);
    const last = await infra.jsm.streams.getMessage(naming.stream, { last_by_subj: subject });
    expect(last?.json()).toMatchObject({
      type: 'webhook.deleted.v1',
      principal: ADMIN,
      tenant: 'acme',
      webhookId: webhook.id,
      webhook: { secret: webhook.secret, createdBy: ADMIN },
    });
  });

  it("deleting a missing webhook, or another tenant's, is WEBHOOK_NOT_FOUND", async () => {
    const missing = {
      type: 'DeleteWebhook' as const,
      tenant: 'acme',
      webhookId: 'wh_NoSuch0000000001',
    };
    expect(code(await handle({ command: missing, principal: ADMIN }))).toBe('WEBHOOK_NOT_FOUND');
    const other = {
      id: 'wh_Other00000000001',
      tenant: 'other',
      url: webhook.url,
      secret: webhook.secret,
    };
    expect(
      code(await handle({ command: { type: 'CreateWebhook', webhook: other }, principal: ADMIN })),
    ).toBe('WEBHOOK_NOT_FOUND');
  });
});
