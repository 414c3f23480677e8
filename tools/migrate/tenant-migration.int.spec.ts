import { spawn } from 'node:child_process';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { evolveToken, type TokenStreamState } from '@cb/domain';
import { createLogger } from '@cb/logging';
import {
  decodeEvent,
  encodeJson,
  ensureInfrastructure,
  EventStore,
  eventStreamConfig,
  NatsPlatformError,
  RequestMux,
} from '@cb/nats';
import type { CbEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import {
  EventGenerator,
  loadFixtureWorkflow,
  readBucket,
  REPO_ROOT,
  startTestNats,
  uniqueNaming,
  type TestNats,
} from '@cb/testing';
import {
  MIGRATED_FROM_HEADER,
  MIGRATION_META_KEY,
  MIGRATION_PRINCIPAL,
  MigrationError,
  migrateToTenants,
  withPrincipal,
  type MigrateOptions,
  type MigrationRecord,
} from './tenant-migration';

/*
 * A stream in the layout before tenants (commit 729ec40^: `<prefix>.wf.<wf>`,
 * `<prefix>.tok.<p>.<wf>.<tok>`, events without a principal), written by hand through the real
 * decider, is refused by the services, migrated, and then accepted: every event in tenant
 * `default` at its own seq, with the migration's principal and otherwise the same bytes.
 */

const logger = createLogger({ service: 'test', level: 'silent' });
const settings = { replicas: 1, duplicateWindowMs: 60_000 };
const PARTITIONS = 4;

let server: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
let mux: RequestMux;

beforeAll(async () => {
  server = await startTestNats();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  mux = new RequestMux(nc);
});

afterAll(async () => {
  mux?.close();
  await nc?.close();
  await server?.dispose();
});

interface LegacyMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

interface Legacy {
  naming: Naming;
  /** Every message of the legacy stream by seq. */
  messages: Map<number, LegacyMessage>;
  /** Legacy token subject → { workflowId, tokenId, version, state }. */
  tokens: Map<string, { workflowId: string; tokenId: string; version: number; state: unknown }>;
  workflows: Map<string, number>;
  /** A seq without a message (deleted). */
  gapSeq: number;
  lastSeq: number;
}

/** The subject of the layout before tenants for a subject of tenant `default`. */
function legacySubjectOf(naming: Naming, subject: string): string {
  const parts = subject.split('.');
  expect(parts[0]).toBe(naming.prefix);
  if (parts[1] === 'wf') return [parts[0], 'wf', parts[3]].join('.');
  return [parts[0], 'tok', parts[2], parts[4], parts[5]].join('.');
}

/** A deployment from before tenants: its stream, meta bucket and (derived) read models. */
async function writeLegacyDeployment(events = 300): Promise<Legacy> {
  const naming = uniqueNaming(PARTITIONS);
  const js = jetstream(nc);
  // The configuration of 729ec40^ (eventStreamConfig with the old subjects), message deletes
  // allowed only so that the test can make a gap.
  await jsm.streams.add({
    ...eventStreamConfig(naming, settings),
    subjects: naming.legacyStreamSubjects,
    deny_delete: false,
  } as never);
  const kvm = new Kvm(nc);
  const meta = await kvm.create(naming.metaBucket, { history: 1 });
  await meta.put(naming.partitionsMetaKey, encodeJson({ partitions: PARTITIONS }));
  let n = 0;
  let gapSeq = 0;
  const publish = async (subject: string, data: Uint8Array, h: Record<string, string>) => {
    const hs = headers();
    for (const [k, v] of Object.entries(h)) hs.set(k, v);
    return js.publish(subject, data, { headers: hs });
  };
  const store = {
    async append(subject: string, event: unknown, options: { expectedLastSubjectSeq: number }) {
      const { principal: _p, ...legacyEvent } = event as Record<string, unknown>;
      n++;
      const h: Record<string, string> = {
        'Nats-Expected-Last-Subject-Sequence': String(options.expectedLastSubjectSeq),
      };
      if (n % 5 === 0) {
        h['Nats-Msg-Id'] = `legacy-digest-${n}`;
        h['Cb-Command-Hash'] = `hash-${n}`;
        h['Cb-Request-Id'] = `req-${n}`;
      }
      const ack = await publish(
        legacySubjectOf(naming, subject),
        new TextEncoder().encode(JSON.stringify(legacyEvent)),
        h,
      );
      if (n === 10) {
        // Garbage a misbehaving client published (readers skip it; it keeps its seq), and a
        // message deleted afterwards (a gap in the numbering).
        await publish(`${naming.prefix}.tok.0.junk.x`, new TextEncoder().encode('not json'), {});
        const gone = await publish(`${naming.prefix}.tok.1.junk.y`, new Uint8Array([1]), {});
        await jsm.streams.deleteMessage(naming.stream, gone.seq, false);
        gapSeq = gone.seq;
      }
      return ack;
    },
  };
  const generator = new EventGenerator({
    store,
    naming,
    workflows: (['document-review', 'order-processing'] as const).map(loadFixtureWorkflow),
    seed: 3,
    tokens: 40,
    concurrency: 1, // sequential: the gap lands at a known point
  });
  await generator.defineWorkflows();
  await generator.runUntilEvents(events);

  // Read models, projection bookkeeping and idempotency records of the old layout.
  const tokensBucket = await kvm.create(naming.readModelBucket('tokens', 1), { history: 1 });
  await tokensBucket.put('legacy-token', encodeJson({ id: 'legacy-token' }));
  const projector = await kvm.create(naming.projectorBucket, { history: 1 });
  await projector.put(naming.watermarkKey(1, 0), encodeJson({ seq: 10 }));
  await meta.put(naming.readModelPointerKey, encodeJson({ generation: 1, switchedAt: 'x' }));
  const idempotency = await kvm.create(naming.idempotencyBucket, { history: 1 });
  await idempotency.put('ab'.repeat(16), encodeJson({ seq: 5 }));

  const { state } = await jsm.streams.info(naming.stream);
  const messages = new Map<number, LegacyMessage>();
  const tokens: Legacy['tokens'] = new Map();
  const workflows = new Map<string, number>();
  const folded = new Map<string, TokenStreamState>();
  for (let seq = 1; seq <= state.last_seq; seq++) {
    const m = await jsm.direct.getMessage(naming.stream, { seq });
    if (m === null || m.seq !== seq) continue;
    const h: Record<string, string> = {};
    for (const k of m.header?.keys() ?? []) h[k] = m.header.get(k);
    messages.set(seq, { seq, subject: m.subject, data: m.data, headers: h });
    const decoded = decodeEvent(m.data);
    if (!decoded.ok) continue;
    const event = decoded.event;
    if (event.type === 'workflow.defined.v1') {
      workflows.set(event.workflowId, seq);
      continue;
    }
    const next = evolveToken(folded.get(m.subject) ?? { status: 'absent' }, event);
    folded.set(m.subject, next);
    tokens.set(m.subject, {
      workflowId: event.workflowId,
      tokenId: event.tokenId,
      version: seq,
      state: next,
    });
  }
  expect(gapSeq).toBeGreaterThan(0);
  expect(messages.has(gapSeq)).toBe(false);
  expect(messages.size).toBe(state.messages);
  return { naming, messages, tokens, workflows, gapSeq, lastSeq: state.last_seq };
}

function options(naming: Naming, extra: Partial<MigrateOptions> = {}): MigrateOptions {
  return { nc, naming, settings, logger, pingTimeoutMs: 300, ...extra };
}

async function streamExists(name: string): Promise<boolean> {
  return jsm.streams.info(name).then(
    () => true,
    () => false,
  );
}

async function refusalOf(naming: Naming): Promise<string | undefined> {
  const error = await ensureInfrastructure(nc, naming, settings, logger).then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof NatsPlatformError ? error.code : undefined;
}

/** Everything a service reads after the migration is what it was, in tenant `default`. */
async function expectMigrated(legacy: Legacy): Promise<void> {
  const { naming } = legacy;
  // The derived state of the old layout is gone (before the services recreate their buckets).
  expect(await streamExists(`KV_${naming.readModelBucket('tokens', 1)}`)).toBe(false);
  expect(await streamExists(`KV_${naming.projectorBucket}`)).toBe(false);
  expect(await streamExists(`KV_${naming.idempotencyBucket}`)).toBe(false);
  expect(await streamExists(naming.tenantMigrationStream)).toBe(false);
  const meta = await new Kvm(nc).open(naming.metaBucket);
  expect((await meta.get(naming.readModelPointerKey))?.operation ?? 'none').not.toBe('PUT');
  const record = (await meta.get(MIGRATION_META_KEY))?.json<MigrationRecord>();
  expect(record).toMatchObject({
    phase: 'done',
    events: legacy.messages.size,
    lastSeq: legacy.lastSeq,
    gaps: 1,
  });

  // The services accept the stream (its configuration is exactly this version's).
  const infra = await ensureInfrastructure(nc, naming, settings, logger);
  const info = await infra.jsm.streams.info(naming.stream);
  expect(info.config).toMatchObject({ deny_delete: true, deny_purge: true });
  expect(info.state).toMatchObject({
    messages: legacy.messages.size,
    first_seq: 1,
    last_seq: legacy.lastSeq,
  });

  // Every message: same seq, subject in tenant default, same headers but the Nats-* ones, the
  // same payload with the principal inserted (garbage unchanged).
  const store = new EventStore(nc, mux, naming.stream);
  for (let seq = 1; seq <= legacy.lastSeq; seq++) {
    const before = legacy.messages.get(seq);
    const after = await store.at(seq);
    if (before === undefined) {
      expect(seq).toBe(legacy.gapSeq);
      expect(after).toBeNull();
      continue;
    }
    expect(after).not.toBeNull();
    expect(after!.subject).toBe(naming.tenantSubjectOfLegacy(before.subject, 'default'));
    const decodedBefore = decodeEvent(before.data);
    const decodedAfter = decodeEvent(after!.data);
    if (decodedBefore.ok) {
      expect(decodedAfter.ok ? '' : decodedAfter.reason).toBe('');
      const event = (decodedAfter as { event: CbEvent }).event;
      expect(event.principal).toEqual(MIGRATION_PRINCIPAL);
      const { principal: _p, ...rest } = event;
      expect(rest).toEqual(decodedBefore.event);
      expect(Buffer.from(after!.data)).toEqual(Buffer.from(withPrincipal(before.data)));
    } else {
      expect(Buffer.from(after!.data)).toEqual(Buffer.from(before.data));
    }
    for (const name of ['Cb-Command-Hash', 'Cb-Request-Id']) {
      expect(after!.header?.get(name) ?? '').toBe(before.headers[name] ?? '');
    }
    expect(after!.header?.get(MIGRATED_FROM_HEADER)).toBe(before.subject);
    // Digests of the old idempotency scope are useless now and could collide: not carried over.
    expect(after!.header?.get('Nats-Msg-Id') ?? '').toBe('');
  }

  // What the repositories load (TokenRepository.load: the last message of the token's subject,
  // its seq is the version and the ETag): the same versions and states, in tenant default.
  for (const t of legacy.tokens.values()) {
    const last = await store.last(naming.tokenSubject('default', t.workflowId, t.tokenId));
    expect(last?.seq).toBe(t.version);
    const decoded = decodeEvent(last!.data);
    expect(decoded.ok).toBe(true);
    const event = (decoded as { event: CbEvent }).event;
    if (event.type === 'workflow.defined.v1') throw new Error('a definition on a token subject');
    expect(evolveToken({ status: 'absent' }, event)).toEqual(t.state);
  }
  for (const [workflowId, seq] of legacy.workflows) {
    const last = await store.last(naming.workflowSubject('default', workflowId));
    expect(last?.seq).toBe(seq);
  }
  expect(legacy.tokens.size).toBeGreaterThan(10);
}

describe('npm run migrate:tenants', () => {
  it('moves a stream of the layout before tenants into tenant default, keeping every seq; a second run is a no-op', async () => {
    const legacy = await writeLegacyDeployment();
    const { naming } = legacy;
    expect(await refusalOf(naming)).toBe('STREAM_LAYOUT_OUTDATED');

    const progress: string[] = [];
    const result = await migrateToTenants(
      options(naming, { onProgress: (p) => progress.push(`${p.step} ${p.done}/${p.total}`) }),
    );
    expect(result.outcome).toBe('migrated');
    const total = legacy.messages.size;
    for (const step of ['copy', 'verify copy', 'republish', 'verify']) {
      expect(progress).toContain(`${step} 0/${total}`);
      expect(progress).toContain(`${step} ${total}/${total}`);
    }
    await expectMigrated(legacy);

    const before = await jsm.streams.info(naming.stream);
    const again = await migrateToTenants(options(naming));
    expect(again.outcome).toBe('already-migrated');
    const after = await jsm.streams.info(naming.stream);
    expect(after.state).toEqual(before.state);
    expect(after.created).toBe(before.created);
  }, 60_000);

  it.each([
    ['during the copy', { step: 'copy' }],
    ['once the copy is verified', { checkpoint: 'copied' }],
    ['after the original was deleted', { checkpoint: 'legacy-deleted' }],
    ['halfway through republishing', { step: 'republish' }],
    ['once republished', { checkpoint: 'republished' }],
    ['after the read models were removed', { checkpoint: 'cleaned' }],
  ] as const)(
    'interrupted %s, refuses services until a second run finishes it',
    async (_what, at) => {
      const legacy = await writeLegacyDeployment(150);
      const { naming } = legacy;
      const crash = new Error('simulated crash');
      const half = Math.floor(legacy.messages.size / 2);
      const first = migrateToTenants(
        options(naming, {
          onProgress: (p) => {
            if ('step' in at && p.step === at.step && p.done >= half) throw crash;
          },
          onCheckpoint: (phase) => {
            if ('checkpoint' in at && phase === at.checkpoint) throw crash;
          },
        }),
      );
      await expect(first).rejects.toBe(crash);
      // Every event still exists somewhere, and no service starts on a half-migrated deployment.
      expect(await streamExists(naming.tenantMigrationStream)).toBe(true);
      expect(await refusalOf(naming)).toBe('STREAM_MIGRATION_IN_PROGRESS');
      if ('checkpoint' in at && at.checkpoint === 'legacy-deleted') {
        expect(await streamExists(naming.stream)).toBe(false); // not re-created by the refusal
      }

      const second = await migrateToTenants(options(naming));
      expect(second.outcome).toBe('migrated');
      await expectMigrated(legacy);
    },
    60_000,
  );

  it('seals the original and keeps it when a forgotten service wrote after the copy; the next run copies again', async () => {
    const legacy = await writeLegacyDeployment(60);
    const { naming } = legacy;
    const js = jetstream(nc);
    const late = legacy.tokens.values().next().value!;
    const lateSubject = [...legacy.tokens.entries()].find(([, t]) => t === late)![0];
    const lastEvent = decodeEvent(legacy.messages.get(late.version)!.data);
    const failed = await migrateToTenants(
      options(naming, {
        onCheckpoint: async (phase) => {
          if (phase !== 'copied') return;
          // An old command service nobody stopped appends one more event.
          if (!lastEvent.ok) throw new Error('unexpected');
          const event = { ...lastEvent.event, eventId: 'late-event' };
          await js.publish(lateSubject, new TextEncoder().encode(JSON.stringify(event)));
        },
      }),
    ).catch((e: unknown) => e);
    expect((failed as MigrationError).code).toBe('STREAM_CHANGED');
    const sealed = await jsm.streams.info(naming.stream);
    expect(sealed.config.sealed).toBe(true);
    expect(sealed.config.subjects).toEqual(naming.legacyStreamSubjects);
    await expect(js.publish(lateSubject, new Uint8Array([1]))).rejects.toThrow();

    // The next run copies the sealed original again, the late event included.
    const again = await migrateToTenants(options(naming));
    expect(again.outcome).toBe('migrated');
    const store = new EventStore(nc, mux, naming.stream);
    const last = await store.last(naming.tokenSubject('default', late.workflowId, late.tokenId));
    expect(last?.seq).toBe(legacy.lastSeq + 1);
    expect(decodeEvent(last!.data)).toMatchObject({ ok: true, event: { eventId: 'late-event' } });
  }, 60_000);

  it('refuses while a service of the deployment runs, changing nothing', async () => {
    const legacy = await writeLegacyDeployment(30);
    const { naming } = legacy;
    const before = await jsm.streams.info(naming.stream);

    // A command service answers its ping.
    const ping = nc.subscribe(naming.commandPingSubject, {
      callback: (_e, m) => {
        m.respond();
      },
    });
    const refused = await migrateToTenants(options(naming)).catch((e: unknown) => e);
    ping.unsubscribe();
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as MigrationError).code).toBe('SERVICES_RUNNING');
    expect((refused as MigrationError).message).toContain(naming.commandPingSubject);

    // A projection worker holds a lease (it stopped a moment ago, or runs elsewhere).
    const projector = await new Kvm(nc).open(naming.projectorBucket);
    const lease = { owner: 'worker-1', expiresAt: Date.now() + 60_000, generation: 1 };
    await projector.put(naming.leaseKey(1, 0), encodeJson(lease));
    const leased = await migrateToTenants(options(naming)).catch((e: unknown) => e);
    expect((leased as MigrationError).code).toBe('SERVICES_RUNNING');
    expect((leased as MigrationError).message).toMatch(/lease lease\.g1\.0 .* held by worker-1/);

    const after = await jsm.streams.info(naming.stream);
    expect(after.config.subjects).toEqual(naming.legacyStreamSubjects);
    expect(after.state).toEqual(before.state);
    expect(await streamExists(naming.tenantMigrationStream)).toBe(false);

    // --force: the caller vouches that nothing runs.
    const forced = await migrateToTenants(options(naming, { force: true }));
    expect(forced.outcome).toBe('migrated');
  }, 60_000);

  it('does nothing to a stream in the tenant layout or a deployment without a stream', async () => {
    const naming = uniqueNaming(PARTITIONS);
    expect((await migrateToTenants(options(naming))).outcome).toBe('nothing-to-migrate');
    expect(await streamExists(naming.stream)).toBe(false);
    await ensureInfrastructure(nc, naming, settings, logger);
    const before = await jsm.streams.info(naming.stream);
    expect((await migrateToTenants(options(naming))).outcome).toBe('nothing-to-migrate');
    expect((await jsm.streams.info(naming.stream)).created).toBe(before.created);
  });

  it('as a process: migrates, rebuilds the read models in tenant default, then says there is nothing to do', async () => {
    const legacy = await writeLegacyDeployment(120);
    const { naming } = legacy;
    const env = {
      ...process.env,
      NATS_URL: server.url,
      CB_PREFIX: naming.prefix,
      CB_STREAM: naming.stream,
      CB_PARTITIONS: String(PARTITIONS),
      LOG_LEVEL: 'warn',
    };
    const run = (): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'tools/migrate/tenants.ts'], {
          cwd: REPO_ROOT,
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
    const first = await run();
    expect(first.stderr).toContain(`migrated ${legacy.messages.size} events into tenant default`);
    expect(first.stderr).toMatch(/republish: \d+ of \d+ events/);
    expect(first.code).toBe(0);

    // The rebuild filled a fresh generation with tenant keys and the same versions.
    const meta = await new Kvm(nc).open(naming.metaBucket);
    const pointer = (await meta.get(naming.readModelPointerKey))?.json<{ generation: number }>();
    expect(pointer?.generation).toBeGreaterThanOrEqual(1);
    const tokens = await readBucket(
      jetstream(nc),
      jsm,
      naming.readModelBucket('tokens', pointer!.generation),
    );
    let compared = 0;
    for (const t of legacy.tokens.values()) {
      const doc = tokens.get(`default.${t.tokenId}`) as { version?: number } | undefined;
      expect(doc?.version).toBe(t.version);
      compared++;
    }
    expect(compared).toBe(legacy.tokens.size);
    expect([...tokens.keys()].every((k) => k.startsWith('default.'))).toBe(true);

    const second = await run();
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('nothing to do');
  }, 120_000);
});
