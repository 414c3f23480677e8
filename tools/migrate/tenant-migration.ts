import { createHash, type Hash } from 'node:crypto';
import {
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
  type StoredMsg,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import {
  decodeJson,
  encodeJson,
  eventStreamConfig,
  JS_ERR,
  jsPublish,
  keepAllStreamConfig,
  RequestMux,
  type StreamSettings,
} from '@cb/nats';
import type { PrincipalRef } from '@cb/schemas';
import { DEFAULT_TENANT, READ_MODEL_KINDS, type Naming } from '@cb/subjects';

/**
 * `npm run migrate:tenants`: moves the events of a stream in the layout before tenants
 * (`<prefix>.wf.<wf>`, `<prefix>.tok.<p>.<wf>.<tok>`, events without a principal) into tenant
 * `default`, each at its own seq, so every token version and ETag stays what it was.
 *
 * Steps (each checkpoint is recorded in the meta bucket under `migration.tenants`):
 * 1. copy every message of the event stream, in order, into `<stream>_MIGRATE` (its seq, subject
 *    and headers in headers of the copy) and verify the copy against the original (count, last
 *    seq, SHA-256 over every message) — phase `copied`;
 * 2. delete the event stream and create it again with the tenant subjects, marked as in
 *    migration (message deletes allowed, another description);
 * 3. republish every copy in order on its new subject with the migration's principal, each at
 *    its original seq (`Nats-Expected-Last-Sequence`); a sequence number with no message (deleted
 *    or purged) gets a placeholder that is deleted at once, so the numbering is kept; verify the
 *    stream against the copy (SHA-256 of what was published) and give it its final
 *    configuration (no deletes, no purges) — phase `republished`;
 * 4. delete what the old layout derived (read models of every generation, the projection
 *    bookkeeping, the read-model pointer, idempotency records) — phase `cleaned`;
 * 5. delete the copy — phase `done`.
 *
 * Interrupted anywhere, a new run finishes: while the original exists it copies again (the
 * original is never touched before its copy is verified); once it is gone it republishes from the
 * copy (a half-filled new stream is deleted first), and the copy is deleted last. While the copy
 * exists every service refuses to start (STREAM_MIGRATION_IN_PROGRESS).
 */

/**
 * The principal every migrated event records. Who wrote an event was not recorded before
 * tenants; the migration acts with the operator's full authority, and a principal names an API
 * key id or `root` (libs/schemas PrincipalRef), so: the root credential in tenant `default`.
 * Migrated events also carry the header `Cb-Migrated-From` with their subject before tenants.
 */
export const MIGRATION_PRINCIPAL: Readonly<PrincipalRef> = Object.freeze({
  tenant: DEFAULT_TENANT,
  keyId: 'root',
});

/** Header on every migrated event: its subject in the layout before tenants. */
export const MIGRATED_FROM_HEADER = 'Cb-Migrated-From';

/** Meta key of the migration's record. */
export const MIGRATION_META_KEY = 'migration.tenants';

/** Beyond this many missing sequence numbers the migration refuses (one placeholder each). */
export const MAX_GAPS = 1_000_000;

/** Headers on the copies: where each came from. */
const H = {
  seq: 'Cb-Migrate-Seq',
  subject: 'Cb-Migrate-Subject',
} as const;

const MIGRATING_DESCRIPTION =
  'Circuit Breaker events: tenant migration in progress (npm run migrate:tenants)';
/** Parallel reads and publishes in flight. */
const WINDOW = 128;

export type MigrationPhase = 'copying' | 'copied' | 'republishing' | 'republished' | 'cleaned';

export interface MigrationRecord {
  phase: MigrationPhase | 'done';
  /** Messages of the original stream (= of the copy). */
  events: number;
  /** The original's first and last seq with a message (0 when empty). */
  firstSeq: number;
  lastSeq: number;
  /** Sequence numbers below `lastSeq` without a message (kept as deleted placeholders). */
  gaps: number;
  /** SHA-256 over every original message (seq, subject, headers, payload). */
  digest: string;
  startedAt: string;
  updatedAt: string;
  /** What step 4 deleted. */
  removed?: string[];
}

export interface MigrationProgress {
  step: 'copy' | 'verify copy' | 'republish' | 'verify';
  done: number;
  total: number;
}

export type MigrationOutcome = 'migrated' | 'already-migrated' | 'nothing-to-migrate';

export interface MigrationResult {
  outcome: MigrationOutcome;
  record: MigrationRecord | null;
}

export interface MigrateOptions {
  nc: NatsConnection;
  naming: Naming;
  settings: StreamSettings;
  logger: Logger;
  onProgress?: (p: MigrationProgress) => void;
  /** Called at each checkpoint (tests interrupt a run by throwing here). */
  onCheckpoint?: (phase: MigrationPhase | 'legacy-deleted') => void | Promise<void>;
  /** Skip the check for running services (the caller has made sure). */
  force?: boolean;
  /** How long a ping of the command service is awaited. */
  pingTimeoutMs?: number;
}

export type MigrationErrorCode =
  | 'SERVICES_RUNNING'
  | 'UNKNOWN_LAYOUT'
  | 'PARTITIONS_MISMATCH'
  | 'TOO_MANY_GAPS'
  | 'STREAM_CHANGED'
  | 'COPY_MISMATCH'
  | 'NO_RECORD'
  | 'CONCURRENT_MIGRATION'
  | 'NO_DIRECT_GET';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

type Layout = 'absent' | 'legacy' | 'tenants' | 'other';

/** Run (or finish) the migration. Every service must be stopped. */
export async function migrateToTenants(o: MigrateOptions): Promise<MigrationResult> {
  const m = new Migration(o, await jetstreamManager(o.nc));
  try {
    return await m.run();
  } finally {
    m.close();
  }
}

class Migration {
  private readonly naming: Naming;
  private readonly log: Logger;
  private readonly mux: RequestMux;
  private meta!: KV;
  private revision = 0;
  private record: MigrationRecord | null = null;
  /** The original's state when this run copied it. */
  private copiedFrom: { messages: number; lastSeq: number } | null = null;

  constructor(
    private readonly o: MigrateOptions,
    private readonly jsm: JetStreamManager,
  ) {
    this.naming = o.naming;
    this.log = o.logger.child({ component: 'tenant-migration' });
    this.mux = new RequestMux(o.nc);
  }

  close(): void {
    this.mux.close();
  }

  async run(): Promise<MigrationResult> {
    const { naming } = this;
    const original = await this.info(naming.stream);
    const copy = await this.info(naming.tenantMigrationStream);
    const layout = this.layoutOf(original);
    if (layout === 'other') {
      throw new MigrationError(
        'UNKNOWN_LAYOUT',
        `stream ${naming.stream} has the subjects ${JSON.stringify(original?.config.subjects)}: ` +
          `neither the layout before tenants (${naming.legacyStreamSubjects.join(', ')}) nor ` +
          `this version's (${naming.streamSubjects.join(', ')}); nothing was changed`,
      );
    }
    await this.openMeta(layout !== 'absent' || copy !== null);
    if (copy === null) {
      if (layout === 'absent') return { outcome: 'nothing-to-migrate', record: this.record };
      if (layout === 'tenants') {
        if (this.record && this.record.phase === 'cleaned') await this.save({ phase: 'done' });
        return {
          outcome: this.record ? 'already-migrated' : 'nothing-to-migrate',
          record: this.record,
        };
      }
    }
    if (!this.o.force) await this.refuseWhileServicesRun();
    await this.checkPartitions();

    if (layout === 'legacy') {
      // The original is intact: (re)make the copy from scratch, verify it, only then delete it.
      if (copy !== null) await this.jsm.streams.delete(naming.tenantMigrationStream);
      await this.copyOriginal(original as StreamInfo);
      await this.checkpoint('copied');
      await this.sealOriginal();
      await this.jsm.streams.delete(naming.stream);
      this.log.warn({ stream: naming.stream }, 'original stream deleted (its copy is verified)');
      await this.checkpoint('legacy-deleted');
    } else {
      await this.checkCopy();
    }
    const record = this.record as MigrationRecord;
    // (A missing stream is republished whatever the record says: the copy is all there is.)
    if (record.phase === 'copied' || record.phase === 'republishing' || layout !== 'tenants') {
      if (layout === 'tenants') {
        // A republish was interrupted: start it again from the verified copy.
        this.log.warn({ stream: naming.stream }, 'deleting a half-republished stream');
        await this.jsm.streams.delete(naming.stream);
      }
      await this.republish();
      await this.checkpoint('republished');
    }
    if (this.record?.phase === 'republished') {
      const removed = await this.removeDerived();
      await this.save({ phase: 'cleaned', removed });
      await this.checkpoint('cleaned');
    }
    await this.jsm.streams.delete(naming.tenantMigrationStream);
    await this.save({ phase: 'done' });
    this.log.info({ events: this.record?.events }, 'migration into tenant default finished');
    return { outcome: 'migrated', record: this.record };
  }

  // ---- state --------------------------------------------------------------------------------

  private layoutOf(info: StreamInfo | null): Layout {
    if (info === null) return 'absent';
    const subjects = info.config.subjects ?? [];
    if (sameSet(subjects, this.naming.legacyStreamSubjects)) return 'legacy';
    if (sameSet(subjects, this.naming.streamSubjects)) return 'tenants';
    return 'other';
  }

  private async info(stream: string): Promise<StreamInfo | null> {
    try {
      return await this.jsm.streams.info(stream);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_ERR.streamNotFound) return null;
      throw err;
    }
  }

  private async openMeta(create: boolean): Promise<void> {
    const kvm = new Kvm(this.o.nc);
    const exists = (await this.info(`KV_${this.naming.metaBucket}`)) !== null;
    if (!exists && !create) return;
    this.meta = exists
      ? await kvm.open(this.naming.metaBucket)
      : await kvm.create(this.naming.metaBucket, {
          history: 1,
          replicas: this.o.settings.replicas,
        });
    const entry = await this.meta.get(MIGRATION_META_KEY);
    if (entry && entry.operation === 'PUT') {
      this.record = (decodeJson(entry.value) as MigrationRecord | undefined) ?? null;
      this.revision = entry.revision;
    } else {
      this.revision = entry?.revision ?? 0;
    }
  }

  /** Write the record by compare-and-set: a second migration running at once fails here. */
  private async save(change: Partial<MigrationRecord>): Promise<void> {
    const now = new Date().toISOString();
    const next = {
      ...(this.record ?? {}),
      ...change,
      updatedAt: now,
    } as MigrationRecord;
    try {
      this.revision =
        this.revision === 0
          ? await this.meta.create(MIGRATION_META_KEY, encodeJson(next))
          : await this.meta.update(MIGRATION_META_KEY, encodeJson(next), this.revision);
    } catch (err) {
      throw new MigrationError(
        'CONCURRENT_MIGRATION',
        `the migration record changed under this run (is another \`npm run migrate:tenants\` ` +
          `running?): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    this.record = next;
  }

  private async checkpoint(phase: MigrationPhase | 'legacy-deleted'): Promise<void> {
    this.log.info({ phase }, 'migration checkpoint');
    await this.o.onCheckpoint?.(phase);
  }

  private async checkPartitions(): Promise<void> {
    const entry = await this.meta.get(this.naming.partitionsMetaKey);
    if (!entry || entry.operation !== 'PUT') return;
    const recorded = (decodeJson(entry.value) as { partitions?: unknown } | undefined)?.partitions;
    if (recorded !== undefined && recorded !== this.naming.partitions) {
      throw new MigrationError(
        'PARTITIONS_MISMATCH',
        `stream ${this.naming.stream} was created with ${String(recorded)} partitions but ` +
          `CB_PARTITIONS is ${this.naming.partitions}; set CB_PARTITIONS=${String(recorded)}`,
      );
    }
  }

  // ---- running services ---------------------------------------------------------------------

  /** Refuse while anything of the deployment looks alive: a ping answered, a lease, a consumer in use. */
  private async refuseWhileServicesRun(): Promise<void> {
    const found = await this.runningServices();
    if (found.length === 0) return;
    throw new MigrationError(
      'SERVICES_RUNNING',
      `services of this deployment seem to be running; stop every command service, projection ` +
        `worker and gateway (old and new version) and run again (a lease of a stopped service ` +
        `runs out after its TTL; --force skips this check):\n  ${found.join('\n  ')}`,
    );
  }

  private async runningServices(): Promise<string[]> {
    const { naming, jsm } = this;
    const found: string[] = [];
    try {
      await this.o.nc.request(naming.commandPingSubject, new Uint8Array(0), {
        timeout: this.o.pingTimeoutMs ?? 1000,
      });
      found.push(`a command service answers ${naming.commandPingSubject}`);
    } catch {
      // no responders or no answer: no command service subscribed
    }
    // Consumers first: reading the leases below makes (short-lived) consumers of our own.
    const streams = [
      naming.stream,
      `KV_${naming.metaBucket}`,
      `KV_${naming.projectorBucket}`,
      `KV_${naming.keysBucket}`,
      `KV_${naming.sessionsBucket}`,
    ];
    for (const stream of streams) {
      if ((await this.info(stream)) === null) continue;
      for await (const ci of jsm.consumers.list(stream)) {
        if (ci.push_bound === true || ci.num_waiting > 0) {
          found.push(`consumer ${ci.name} of stream ${stream} has a subscriber`);
        }
      }
    }
    const now = Date.now();
    const leases: Array<[string, string]> = [
      [naming.metaBucket, 'cmd.lease.*'],
      [naming.projectorBucket, 'lease.>'],
    ];
    const kvm = new Kvm(this.o.nc);
    for (const [bucket, filter] of leases) {
      if ((await this.info(`KV_${bucket}`)) === null) continue;
      const kv = await kvm.open(bucket);
      for await (const key of await kv.keys(filter)) {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') continue;
        const lease = decodeJson(e.value) as { owner?: unknown; expiresAt?: unknown } | undefined;
        if (typeof lease?.expiresAt === 'number' && lease.expiresAt > now) {
          found.push(
            `lease ${key} in ${bucket} is held by ${String(lease.owner)} until ` +
              new Date(lease.expiresAt).toISOString(),
          );
        }
      }
    }
    return found;
  }

  // ---- step 1: the copy ---------------------------------------------------------------------

  private async copyOriginal(original: StreamInfo): Promise<void> {
    const { naming, jsm } = this;
    if (original.config.allow_direct !== true) {
      throw new MigrationError(
        'NO_DIRECT_GET',
        `stream ${naming.stream} does not allow direct gets (allow_direct), which the migration ` +
          `reads with; nothing was changed: allow them (nats stream edit ${naming.stream} ` +
          `--allow-direct) and run again`,
      );
    }
    const { messages, first_seq: first, last_seq: last } = original.state;
    const upperGaps = last - messages; // missing seqs up to the last one (trailing ones included)
    if (upperGaps > MAX_GAPS) {
      throw new MigrationError(
        'TOO_MANY_GAPS',
        `stream ${naming.stream} has ${upperGaps} sequence numbers without a message (deleted or ` +
          `purged); keeping every seq needs a placeholder for each, and more than ${MAX_GAPS} is ` +
          `refused; nothing was changed`,
      );
    }
    this.record = null; // a new copy: a record of an earlier run says nothing about it
    await this.save({
      phase: 'copying',
      events: messages,
      firstSeq: 0,
      lastSeq: 0,
      gaps: 0,
      digest: '',
      startedAt: new Date().toISOString(),
    });
    this.log.info(
      { stream: naming.stream, events: messages, firstSeq: first, lastSeq: last },
      'copying the events',
    );
    await jsm.streams.add(copyStreamConfig(naming, this.o.settings));
    const digest = new ContentDigest();
    let copied = 0;
    let firstSeq = 0;
    let lastSeq = 0;
    const progress = (done: number, step: MigrationProgress['step']): void =>
      this.o.onProgress?.({ step, done, total: messages });
    progress(0, 'copy');
    for (let from = messages === 0 ? last + 1 : first; from <= last; from += WINDOW) {
      const got = await this.getRange(naming.stream, from, Math.min(from + WINDOW - 1, last));
      const acks: Promise<void>[] = [];
      for (const msg of got) {
        if (msg === null) continue;
        const kept = keptHeaders(msg);
        digest.add(msg.seq, msg.subject, kept, msg.data);
        if (firstSeq === 0) firstSeq = msg.seq;
        lastSeq = msg.seq;
        const target = ++copied;
        const h: Record<string, string> = Object.fromEntries(kept);
        h[H.seq] = String(msg.seq);
        h[H.subject] = msg.subject;
        h['Nats-Expected-Last-Sequence'] = String(target - 1);
        acks.push(
          jsPublish(this.mux, naming.tenantMigrationSubject, msg.data, { headers: h }).then(
            (ack) => {
              if (ack.seq !== target) {
                throw new MigrationError(
                  'COPY_MISMATCH',
                  `copy of seq ${msg.seq} landed at ${ack.seq}, not ${target}; run again`,
                );
              }
            },
          ),
        );
      }
      await Promise.all(acks);
      progress(copied, 'copy');
    }
    const originalDigest = digest.hex();
    // Nothing may have written to the original meanwhile (services are stopped).
    const after = (await jsm.streams.info(naming.stream)).state;
    if (after.messages !== messages || after.last_seq !== last || copied !== messages) {
      throw new MigrationError(
        'STREAM_CHANGED',
        `stream ${naming.stream} changed during the copy (${messages} → ${after.messages} ` +
          `messages, last seq ${last} → ${after.last_seq}): a service is running; stop it and ` +
          `run again (the original is untouched)`,
      );
    }
    this.copiedFrom = { messages, lastSeq: last };
    const copyDigest = await this.digestOfCopy((done) => progress(done, 'verify copy'));
    if (copyDigest.count !== messages || copyDigest.hex !== originalDigest) {
      throw new MigrationError(
        'COPY_MISMATCH',
        `the copy in ${naming.tenantMigrationStream} does not match ${naming.stream} ` +
          `(${copyDigest.count} of ${messages} messages, digest ${copyDigest.hex} vs ` +
          `${originalDigest}); the original is untouched; run again`,
      );
    }
    await this.save({
      phase: 'copied',
      digest: originalDigest,
      firstSeq,
      lastSeq,
      gaps: lastSeq - messages,
    });
  }

  /** The digest of the copy's content as it was in the original (and how many messages). */
  private async digestOfCopy(
    progress?: (done: number) => void,
  ): Promise<{ hex: string; count: number }> {
    const digest = new ContentDigest();
    let count = 0;
    await this.eachCopy(async (msg) => {
      const kept = keptHeaders(msg).filter(([k]) => k !== H.seq && k !== H.subject);
      digest.add(Number(msg.header.get(H.seq)), msg.header.get(H.subject), kept, msg.data);
      count++;
    }, progress);
    return { hex: digest.hex(), count };
  }

  /** Every message of the copy in order (at most WINDOW read ahead). */
  private async eachCopy(
    fn: (msg: StoredMsg) => Promise<void> | void,
    progress?: (done: number) => void,
  ): Promise<void> {
    const { state } = await this.jsm.streams.info(this.naming.tenantMigrationStream);
    let done = 0;
    progress?.(0);
    for (let from = 1; from <= state.last_seq; from += WINDOW) {
      const got = await this.getRange(
        this.naming.tenantMigrationStream,
        from,
        Math.min(from + WINDOW - 1, state.last_seq),
      );
      for (const msg of got) {
        if (msg === null) throw copyDamaged(this.naming, from);
        await fn(msg);
        done++;
      }
      progress?.(done);
    }
  }

  private async checkCopy(): Promise<void> {
    const record = this.record;
    if (
      record === null ||
      !['copied', 'republishing', 'republished', 'cleaned'].includes(record.phase)
    ) {
      throw new MigrationError(
        'NO_RECORD',
        `${this.naming.tenantMigrationStream} exists but the meta bucket has no verified copy ` +
          `recorded (${MIGRATION_META_KEY}: ${record?.phase ?? 'none'}); nothing was changed: ` +
          `inspect it (nats stream info ${this.naming.tenantMigrationStream})`,
      );
    }
    const info = await this.jsm.streams.info(this.naming.tenantMigrationStream);
    if (info.state.messages !== record.events || info.state.last_seq !== record.events) {
      throw new MigrationError(
        'COPY_MISMATCH',
        `${this.naming.tenantMigrationStream} holds ${info.state.messages} messages, the record ` +
          `says ${record.events}; nothing was changed`,
      );
    }
  }

  /**
   * Seal the original (no more writes, nothing deleted) and check it is still exactly what was
   * copied, right before it is deleted: a forgotten old service cannot slip an event in between.
   * A sealed original that changed is copied again by the next run.
   */
  private async sealOriginal(): Promise<void> {
    const { naming, jsm } = this;
    const copied = this.copiedFrom as { messages: number; lastSeq: number };
    const info = await jsm.streams.info(naming.stream);
    // (The client's update type leaves `sealed` out; the server takes it, since 2.6.2.)
    await jsm.streams.update(naming.stream, { ...info.config, sealed: true } as StreamConfig);
    const { state } = await jsm.streams.info(naming.stream);
    if (state.messages !== copied.messages || state.last_seq !== copied.lastSeq) {
      throw new MigrationError(
        'STREAM_CHANGED',
        `stream ${naming.stream} changed after its copy (${copied.messages} → ${state.messages} ` +
          `messages): a service is running; stop it and run again (the original is kept, sealed)`,
      );
    }
  }

  // ---- step 2 and 3: the new stream ---------------------------------------------------------

  private async republish(): Promise<void> {
    const { naming, jsm } = this;
    const record = this.record as MigrationRecord;
    await this.save({ phase: 'republishing' });
    const final = eventStreamConfig(naming, this.o.settings);
    await jsm.streams.add({
      ...final,
      description: MIGRATING_DESCRIPTION,
      deny_delete: false,
      deny_purge: false,
    } as Partial<StreamConfig> as StreamConfig);
    const total = record.events;
    const progress = (done: number, step: MigrationProgress['step']): void =>
      this.o.onProgress?.({ step, done, total });
    const published = new ContentDigest();
    const gapSubject = naming.workflowSubject(DEFAULT_TENANT, 'cb-migration-gap');
    let last = 0; // the new stream's last seq
    let done = 0;
    let pending: Promise<unknown>[] = [];
    const placeholders: number[] = [];
    const publish = (subject: string, data: Uint8Array, h: Record<string, string>, seq: number) => {
      h['Nats-Expected-Last-Sequence'] = String(seq - 1);
      pending.push(
        jsPublish(this.mux, subject, data, { headers: h }).then((ack) => {
          if (ack.seq !== seq) {
            throw new MigrationError(
              'COPY_MISMATCH',
              `republishing seq ${seq} got seq ${ack.seq}; run again (the copy is kept)`,
            );
          }
        }),
      );
    };
    const flush = async (): Promise<void> => {
      await Promise.all(pending);
      pending = [];
      for (const seq of placeholders.splice(0))
        await jsm.streams.deleteMessage(naming.stream, seq, false);
      progress(done, 'republish');
    };
    progress(0, 'republish');
    await this.eachCopy(async (msg) => {
      const seq = Number(msg.header.get(H.seq));
      const legacySubject = msg.header.get(H.subject);
      while (last + 1 < seq) {
        last++;
        publish(gapSubject, new Uint8Array(0), {}, last);
        placeholders.push(last);
        if (pending.length >= WINDOW) await flush();
      }
      const subject = naming.tenantSubjectOfLegacy(legacySubject, DEFAULT_TENANT);
      if (subject === null) throw copyDamaged(naming, seq);
      const data = withPrincipal(msg.data);
      const kept = keptHeaders(msg).filter(([k]) => k !== H.seq && k !== H.subject);
      kept.push([MIGRATED_FROM_HEADER, legacySubject]);
      kept.sort(byHeader);
      published.add(seq, subject, kept, data);
      last = seq;
      done++;
      publish(subject, data, Object.fromEntries(kept), seq);
      if (pending.length >= WINDOW) await flush();
    });
    await flush();
    await this.verifyRepublished(published.hex(), total);
    // The final configuration: no deletes, no purges, the usual description (false → true only).
    const info = await jsm.streams.info(naming.stream);
    await jsm.streams.update(naming.stream, {
      ...info.config,
      description: final.description,
      deny_delete: true,
      deny_purge: true,
    });
    await this.save({ phase: 'republished' });
  }

  private async verifyRepublished(expected: string, total: number): Promise<void> {
    const { naming, jsm } = this;
    const record = this.record as MigrationRecord;
    const { state } = await jsm.streams.info(naming.stream);
    const digest = new ContentDigest();
    let count = 0;
    this.o.onProgress?.({ step: 'verify', done: 0, total });
    for (let from = state.first_seq; from <= state.last_seq; from += WINDOW) {
      const got = await this.getRange(
        naming.stream,
        from,
        Math.min(from + WINDOW - 1, state.last_seq),
      );
      for (const msg of got) {
        if (msg === null) continue;
        digest.add(msg.seq, msg.subject, keptHeaders(msg), msg.data);
        count++;
      }
      this.o.onProgress?.({ step: 'verify', done: count, total });
    }
    const sameRange =
      total === 0 || (state.first_seq === record.firstSeq && state.last_seq === record.lastSeq);
    if (count !== total || state.messages !== total || !sameRange || digest.hex() !== expected) {
      throw new MigrationError(
        'COPY_MISMATCH',
        `the republished stream ${naming.stream} does not match the copy (${count} of ${total} ` +
          `messages, seqs ${state.first_seq}-${state.last_seq} vs ${record.firstSeq}-` +
          `${record.lastSeq}); run again: it republishes from the copy, which is kept`,
      );
    }
  }

  // ---- step 4: what the old layout derived --------------------------------------------------

  /**
   * Read models of every generation (their keys have no tenant), the projector bucket (leases,
   * watermarks, heartbeats), the read-model pointer and the idempotency records (digests of the
   * old scope, never looked up again): all derived, all rebuilt or recreated at start.
   */
  private async removeDerived(): Promise<string[]> {
    const { naming, jsm } = this;
    const kinds = READ_MODEL_KINDS.join('|');
    const readModel = new RegExp(`^KV_${escapeRegExp(naming.prefix)}_(?:${kinds})_\\d+$`);
    const doomed: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (readModel.test(name)) doomed.push(name);
    }
    doomed.sort();
    for (const bucket of [naming.projectorBucket, naming.idempotencyBucket]) {
      if ((await this.info(`KV_${bucket}`)) !== null) doomed.push(`KV_${bucket}`);
    }
    for (const name of doomed) await jsm.streams.delete(name);
    await this.meta.purge(naming.readModelPointerKey);
    this.log.info({ removed: doomed }, 'derived state of the old layout removed');
    return [...doomed, `${naming.metaBucket}:${naming.readModelPointerKey}`];
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Messages from..to of a stream by direct get, in parallel; null where a seq has none. */
  private getRange(stream: string, from: number, to: number): Promise<(StoredMsg | null)[]> {
    const gets: Promise<StoredMsg | null>[] = [];
    for (let seq = from; seq <= to; seq++) {
      gets.push(
        this.jsm.direct.getMessage(stream, { seq }).then((m) => (m && m.seq === seq ? m : null)),
      );
    }
    return Promise.all(gets);
  }
}

/** The copy stream: one subject, protected from deletes and purges (deleted as a whole at the end). */
function copyStreamConfig(naming: Naming, settings: StreamSettings): StreamConfig {
  return keepAllStreamConfig({
    name: naming.tenantMigrationStream,
    description: `Circuit Breaker tenant migration: copy of ${naming.stream} (npm run migrate:tenants)`,
    subjects: [naming.tenantMigrationSubject],
    replicas: settings.replicas,
    duplicateWindowMs: 1000,
    protect: true,
  }) as StreamConfig;
}

function copyDamaged(naming: Naming, seq: number): MigrationError {
  return new MigrationError(
    'COPY_MISMATCH',
    `${naming.tenantMigrationStream} is damaged near seq ${seq}; nothing more was changed: ` +
      `inspect it (nats stream info ${naming.tenantMigrationStream})`,
  );
}

/** A message's own headers, sorted, without the server's and JetStream's (`Nats-*`). */
function keptHeaders(msg: StoredMsg): Array<[string, string]> {
  const h = msg.header;
  if (!h) return [];
  const out: Array<[string, string]> = [];
  for (const k of h.keys()) {
    if (/^nats-/i.test(k)) continue;
    for (const v of h.values(k)) out.push([k, v]);
  }
  return out.sort(byHeader);
}

function byHeader([a, x]: [string, string], [b, y]: [string, string]): number {
  if (a !== b) return a < b ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

const PRINCIPAL_FIELD = new TextEncoder().encode(
  `"principal":${JSON.stringify(MIGRATION_PRINCIPAL)},`,
);

/**
 * The event with the migration's principal: inserted as the first field of the JSON object, so
 * every other byte is kept as it was. A payload that is not a JSON object with fields and without
 * a principal (garbage on a subject, which readers skip) is kept unchanged.
 */
export function withPrincipal(data: Uint8Array): Uint8Array {
  const value = decodeJson(data);
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length === 0 ||
    'principal' in value
  ) {
    return data;
  }
  const brace = data.indexOf(0x7b); // `{`: only whitespace can precede it in a JSON object
  const out = new Uint8Array(data.length + PRINCIPAL_FIELD.length);
  out.set(data.subarray(0, brace + 1), 0);
  out.set(PRINCIPAL_FIELD, brace + 1);
  out.set(data.subarray(brace + 1), brace + 1 + PRINCIPAL_FIELD.length);
  return out;
}

/** SHA-256 over (seq, subject, headers, payload) of messages, framed with lengths. */
class ContentDigest {
  private readonly hash: Hash = createHash('sha256');

  add(seq: number, subject: string, kept: Array<[string, string]>, data: Uint8Array): void {
    const headers = kept.map(([k, v]) => `${k}: ${v}`).join('\r\n');
    this.hash.update(`${seq} ${subject} ${Buffer.byteLength(headers)} ${data.length}\n${headers}`);
    this.hash.update(data);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join('\n') === [...b].sort().join('\n');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
