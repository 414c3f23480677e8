import {
  assertPartitionCount,
  assertPrefix,
  assertStreamName,
  assertSubjectSafeId,
  assertTenant,
  InvalidNameError,
  isSubjectSafeId,
  isTenant,
} from './ids';
import { fnv1a32, partitionOf } from './partition';
import { kvStreamName } from './wire';

export interface NamingOptions {
  /** Root subject token and bucket-name prefix of this deployment (default `cb`). */
  readonly prefix: string;
  /** Name of the event stream (default `CB_EVENTS`). */
  readonly stream: string;
  /** Number of token partitions; fixed when the stream is created (default 8). */
  readonly partitions: number;
}

export const DEFAULT_NAMING: NamingOptions = Object.freeze({
  prefix: 'cb',
  stream: 'CB_EVENTS',
  partitions: 8,
});

/** The command kinds (the last part of every command subject). */
export const COMMAND_KINDS = [
  'workflow.define',
  'key.create',
  'key.revoke',
  'webhook.create',
  'webhook.delete',
  'token.create',
  'token.fire',
  'token.update',
  'token.delete',
] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];
/**
 * Served by the definitions' lease holder: definitions, API keys and webhooks (one writer, low
 * volume).
 */
export const DEFINITION_COMMAND_KINDS = [
  'workflow.define',
  'key.create',
  'key.revoke',
  'webhook.create',
  'webhook.delete',
] as const;
export type DefinitionCommandKind = (typeof DEFINITION_COMMAND_KINDS)[number];
export type TokenCommandKind = Exclude<CommandKind, DefinitionCommandKind>;

/** Read-model buckets are generational so a rebuild can fill fresh ones beside the live ones. */
export const READ_MODEL_KINDS = ['tokens', 'places', 'stats', 'workflows'] as const;
export type ReadModelKind = (typeof READ_MODEL_KINDS)[number];

/**
 * One ordered index of a workflow's tokens: the tokens in one place, all of its live tokens, or
 * those whose search attribute (`metadata.<key>` / `data.<key>`) has one value (as text).
 */
export type TokenIndex =
  | { kind: 'place'; place: string }
  | { kind: 'workflow' }
  | { kind: 'attribute'; attribute: string; value: string };

const CHUNK_ID = /^[0-9a-f]{1,32}$/;

/**
 * The key segments naming an index. An attribute's value is written as itself when it is a safe
 * id (`v<value>`), else as a 64-bit hash of it (`h<hex>`); readers check every listed token's
 * document, so a collision costs a filtered read, never a wrong answer.
 */
function indexSegment(index: TokenIndex): string {
  switch (index.kind) {
    case 'place':
      assertSubjectSafeId('place', index.place);
      return `p.${index.place}`;
    case 'workflow':
      return 'w._';
    case 'attribute': {
      const dot = index.attribute.indexOf('.');
      const root = index.attribute.slice(0, dot);
      const key = index.attribute.slice(dot + 1);
      if ((root !== 'metadata' && root !== 'data') || !isSubjectSafeId(key)) {
        throw new InvalidNameError(
          'search attribute',
          index.attribute,
          'metadata.<key> or data.<key>',
        );
      }
      const text: string = index.value;
      const value = SAFE_VALUE.test(text)
        ? `v${text}`
        : `h${hex(fnv1a32(text))}${hex(fnv1a32(`${text.length}:${text}`))}`;
      return `a.${root}=${key}.${value}`;
    }
  }
}

const SAFE_VALUE = /^[A-Za-z0-9_-]{1,64}$/;

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export interface TokenAddress {
  readonly partition: number;
  readonly tenant: string;
  readonly workflowId: string;
  readonly tokenId: string;
}

export interface WorkflowAddress {
  readonly tenant: string;
  readonly workflowId: string;
}

/**
 * Every subject, stream, bucket and key of one deployment. Nothing else in the code base spells
 * a subject: build it here.
 */
export class Naming {
  readonly prefix: string;
  readonly stream: string;
  readonly partitions: number;

  constructor(options: NamingOptions = DEFAULT_NAMING) {
    assertPrefix(options.prefix);
    assertStreamName(options.stream);
    assertPartitionCount(options.partitions);
    this.prefix = options.prefix;
    this.stream = options.stream;
    this.partitions = options.partitions;
    Object.freeze(this);
  }

  // ---- event stream -------------------------------------------------------------------------

  /**
   * Subjects the event stream captures: definitions, tokens and API keys, each with the tenant
   * as a subject token (so NATS permissions can confine a tenant). Commands (`<prefix>.cmd.>`)
   * are deliberately outside.
   */
  get streamSubjects(): string[] {
    return [
      this.allWorkflowsSubject,
      `${this.prefix}.tok.*.*.*.*`,
      this.allApiKeysSubject,
      this.allWebhooksSubject,
    ];
  }

  /**
   * Subjects a stream created by an earlier version may lack and that are added to it in place
   * (adding a subject changes no stored event; see ensureStream).
   */
  get addedStreamSubjects(): string[] {
    return [this.allWebhooksSubject];
  }

  /** The stream's subjects before tenants existed (a stream with these needs migrating). */
  get legacyStreamSubjects(): string[] {
    return [`${this.prefix}.wf.*`, `${this.prefix}.tok.*.*.*`];
  }

  /**
   * Where a message of the layout before tenants goes in tenant `tenant`: `<prefix>.wf.<wf>` →
   * `<prefix>.wf.<tenant>.<wf>`, `<prefix>.tok.<p>.<wf>.<tok>` → `<prefix>.tok.<p>.<tenant>.<wf>.<tok>`
   * (the tokens are kept as they are, valid ids or not); null for a subject of neither shape.
   */
  tenantSubjectOfLegacy(subject: string, tenant: string): string | null {
    assertTenant(tenant);
    const parts = subject.split('.');
    if (parts[0] !== this.prefix || parts.some((p) => p.length === 0)) return null;
    if (parts[1] === 'wf' && parts.length === 3) return `${this.prefix}.wf.${tenant}.${parts[2]}`;
    if (parts[1] === 'tok' && parts.length === 5) {
      return `${this.prefix}.tok.${parts[2]}.${tenant}.${parts[3]}.${parts[4]}`;
    }
    return null;
  }

  /** The tenant migration's copy of the events (`npm run migrate:tenants`); none outside it. */
  get tenantMigrationStream(): string {
    return `${this.stream}_MIGRATE`;
  }

  /** The one subject of the migration's copy (outside every other stream's subjects). */
  get tenantMigrationSubject(): string {
    return `${this.prefix}.migrate.tenants`;
  }

  /** A workflow's definitions: `<prefix>.wf.<tenant>.<workflowId>`. */
  workflowSubject(tenant: string, workflowId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${this.prefix}.wf.${tenant}.${workflowId}`;
  }

  /** Every definition of every tenant (the definitions consumer's filter). */
  get allWorkflowsSubject(): string {
    return `${this.prefix}.wf.*.*`;
  }

  tokenPartition(tokenId: string): number {
    assertSubjectSafeId('token id', tokenId);
    return partitionOf(tokenId, this.partitions);
  }

  /** A token's events: `<prefix>.tok.<partition>.<tenant>.<workflowId>.<tokenId>`. */
  tokenSubject(tenant: string, workflowId: string, tokenId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${this.prefix}.tok.${this.tokenPartition(tokenId)}.${tenant}.${workflowId}.${tokenId}`;
  }

  /** The token's subject in whatever workflow of the tenant it belongs to (ids are unique there). */
  tokenSubjectAnyWorkflow(tenant: string, tokenId: string): string {
    assertTenant(tenant);
    return `${this.prefix}.tok.${this.tokenPartition(tokenId)}.${tenant}.*.${tokenId}`;
  }

  /** Every token event of one workflow of a tenant, across partitions. */
  workflowTokensFilter(tenant: string, workflowId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${this.prefix}.tok.*.${tenant}.${workflowId}.*`;
  }

  /** Every token event of one partition (the projection consumers' filter), every tenant. */
  partitionFilter(partition: number): string {
    this.assertPartition(partition);
    // Exactly the stream's token shape: nats-server rejects a consumer filter wider than the stream.
    return `${this.prefix}.tok.${partition}.*.*.*`;
  }

  /** What every token subject of one partition starts with (for matching, not subscribing). */
  partitionSubjectPrefix(partition: number): string {
    this.assertPartition(partition);
    return `${this.prefix}.tok.${partition}.`;
  }

  /** Every token event of one workflow of a tenant within one partition. */
  partitionWorkflowFilter(partition: number, tenant: string, workflowId: string): string {
    this.assertPartition(partition);
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${this.prefix}.tok.${partition}.${tenant}.${workflowId}.*`;
  }

  parseTokenSubject(subject: string): TokenAddress | null {
    const parts = subject.split('.');
    if (parts.length !== 6 || parts[0] !== this.prefix || parts[1] !== 'tok') return null;
    const [, , p, tenant, workflowId, tokenId] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const partition = Number(p);
    if (!/^\d+$/.test(p) || partition >= this.partitions) return null;
    if (!isTenant(tenant) || !isSafe(workflowId) || !isSafe(tokenId)) return null;
    return { partition, tenant, workflowId, tokenId };
  }

  parseWorkflowSubject(subject: string): WorkflowAddress | null {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== this.prefix || parts[1] !== 'wf') return null;
    const [, , tenant, workflowId] = parts as [string, string, string, string];
    return isTenant(tenant) && isSafe(workflowId) ? { tenant, workflowId } : null;
  }

  /** An API key's events (created, revoked): `<prefix>.key.<tenant>.<keyId>`. */
  apiKeySubject(tenant: string, keyId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('key id', keyId);
    return `${this.prefix}.key.${tenant}.${keyId}`;
  }

  /** Every API key event (the keys projection's filter). */
  get allApiKeysSubject(): string {
    return `${this.prefix}.key.*.*`;
  }

  parseApiKeySubject(subject: string): { tenant: string; keyId: string } | null {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== this.prefix || parts[1] !== 'key') return null;
    const [, , tenant, keyId] = parts as [string, string, string, string];
    return isTenant(tenant) && isSafe(keyId) ? { tenant, keyId } : null;
  }

  /** A webhook's registration events (created, deleted): `<prefix>.hook.<tenant>.<hookId>`. */
  webhookSubject(tenant: string, hookId: string): string {
    assertTenant(tenant);
    this.assertWebhookId(hookId);
    return `${this.prefix}.hook.${tenant}.${hookId}`;
  }

  /** Every webhook registration event (the webhooks projection's filter). */
  get allWebhooksSubject(): string {
    return `${this.prefix}.hook.*.*`;
  }

  parseWebhookSubject(subject: string): { tenant: string; hookId: string } | null {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== this.prefix || parts[1] !== 'hook') return null;
    const [, , tenant, hookId] = parts as [string, string, string, string];
    return isTenant(tenant) && WEBHOOK_ID.test(hookId) ? { tenant, hookId } : null;
  }

  /**
   * The token events a webhook's consumer delivers: `<prefix>.tok.*.<tenant>.<workflowId|*>.*`
   * (every partition; one workflow, or all of the tenant's).
   */
  webhookTokenFilter(tenant: string, workflowId?: string): string {
    assertTenant(tenant);
    if (workflowId !== undefined) assertSubjectSafeId('workflow id', workflowId);
    return `${this.prefix}.tok.*.${tenant}.${workflowId ?? '*'}.*`;
  }

  // ---- webhook deliveries ---------------------------------------------------------------------

  /** The log of delivery attempts (recent ones per webhook; not the system of record). */
  get webhookDeliveriesStream(): string {
    return `${this.stream}_DELIVERIES`;
  }

  get webhookDeliveriesSubjects(): string[] {
    return [`${this.prefix}.whd.>`];
  }

  /** One webhook's delivery attempts: `<prefix>.whd.<tenant>.<hookId>`. */
  webhookDeliverySubject(tenant: string, hookId: string): string {
    assertTenant(tenant);
    this.assertWebhookId(hookId);
    return `${this.prefix}.whd.${tenant}.${hookId}`;
  }

  // ---- dead letters ---------------------------------------------------------------------------

  get deadLetterStream(): string {
    return `${this.stream}_DLQ`;
  }

  get deadLetterSubjects(): string[] {
    return [`${this.prefix}.dlq.>`];
  }

  /**
   * The events a webhook gave up on (`WEBHOOK_MAX_ATTEMPTS` failed): `<prefix>.dlq.whk.<tenant>.<hookId>`,
   * apart from the projections' letters (`<prefix>.dlq.tok.…`, `<prefix>.dlq.hook.…`).
   */
  webhookDeadLetterSubject(tenant: string, hookId: string): string {
    assertTenant(tenant);
    this.assertWebhookId(hookId);
    return `${this.prefix}.dlq.whk.${tenant}.${hookId}`;
  }

  /** Every webhook dead letter (the automation user may publish these only). */
  get allWebhookDeadLettersSubject(): string {
    return `${this.prefix}.dlq.whk.>`;
  }

  /** Dead letters keep the original subject's tokens after `<prefix>.dlq.`. */
  deadLetterSubject(originalSubject: string): string {
    const rest = originalSubject.startsWith(`${this.prefix}.`)
      ? originalSubject.slice(this.prefix.length + 1)
      : 'foreign';
    return `${this.prefix}.dlq.${rest}`;
  }

  // ---- commands -------------------------------------------------------------------------------

  /**
   * Where a token command goes: `<prefix>.cmd.p<partition>.<kind>`, served only by the command
   * service instance that holds the partition's lease (one writer per token).
   */
  tokenCommandSubject(partition: number, kind: TokenCommandKind): string {
    this.assertPartition(partition);
    return `${this.prefix}.cmd.p${partition}.${kind}`;
  }

  /** Definitions: `<prefix>.cmd.def.workflow.define`, served by the definitions' lease holder. */
  get definitionCommandSubject(): string {
    return `${this.prefix}.cmd.def.workflow.define`;
  }

  /** API keys: `<prefix>.cmd.def.key.create|revoke`, served by the definitions' lease holder too. */
  keyCommandSubject(kind: 'key.create' | 'key.revoke'): string {
    return `${this.prefix}.cmd.def.${kind}`;
  }

  /** Webhooks: `<prefix>.cmd.def.webhook.create|delete`, served by the definitions' lease holder. */
  webhookCommandSubject(kind: 'webhook.create' | 'webhook.delete'): string {
    return `${this.prefix}.cmd.def.${kind}`;
  }

  /**
   * A create without a token id: `<prefix>.cmd.any.token.create` (queue group), taken by any
   * instance that holds a partition, which picks the new id within its partitions.
   */
  get anyCreateSubject(): string {
    return `${this.prefix}.cmd.any.token.create`;
  }

  /** Every command subject of one lease item (a partition, or the definitions). */
  commandItemWildcard(item: number | 'definitions'): string {
    if (item === 'definitions') return `${this.prefix}.cmd.def.>`;
    this.assertPartition(item);
    return `${this.prefix}.cmd.p${item}.>`;
  }

  get commandWildcard(): string {
    return `${this.prefix}.cmd.>`;
  }

  /** A command subject's kind and route, or null when it is not one. */
  parseCommandSubject(
    subject: string,
  ): { kind: CommandKind; route: number | 'definitions' | 'any' } | null {
    const head = `${this.prefix}.cmd.`;
    if (!subject.startsWith(head)) return null;
    const rest = subject.slice(head.length);
    const dot = rest.indexOf('.');
    if (dot < 0) return null;
    const where = rest.slice(0, dot);
    const kind = rest.slice(dot + 1);
    if (!(COMMAND_KINDS as readonly string[]).includes(kind)) return null;
    const k = kind as CommandKind;
    const definitions = (DEFINITION_COMMAND_KINDS as readonly string[]).includes(k);
    if (where === 'def') return definitions ? { kind: k, route: 'definitions' } : null;
    if (where === 'any') return k === 'token.create' ? { kind: k, route: 'any' } : null;
    if (!/^p\d{1,4}$/.test(where) || definitions) return null;
    const partition = Number(where.slice(1));
    return partition < this.partitions ? { kind: k, route: partition } : null;
  }

  get commandQueueGroup(): string {
    return `${this.prefix}-command-service`;
  }

  /**
   * The command service's ping (queue group `commandQueueGroup`): answered at once, never queued
   * behind commands, so a pong proves a command service is subscribed and its event loop runs.
   * Outside `<prefix>.cmd.>` and the streams.
   */
  get commandPingSubject(): string {
    return `${this.prefix}.svc.command.ping`;
  }

  // ---- buckets --------------------------------------------------------------------------------

  readModelBucket(kind: ReadModelKind, generation: number): string {
    this.assertGeneration(generation);
    return `${this.prefix}_${kind}_${generation}`;
  }

  /** What the name of every KV stream of this deployment's buckets starts with (`KV_<prefix>_`). */
  get kvStreamNamePrefix(): string {
    return kvStreamName(`${this.prefix}_`);
  }

  get projectorBucket(): string {
    return `${this.prefix}_projector`;
  }

  get metaBucket(): string {
    return `${this.prefix}_meta`;
  }

  get idempotencyBucket(): string {
    return `${this.prefix}_idempotency`;
  }

  /** API-key records by key id (written by the key projection, read by gateways). Not generational. */
  get keysBucket(): string {
    return `${this.prefix}_keys`;
  }

  /** Sessions by the SHA-256 of their token; the bucket's age limit is the session lifetime. */
  get sessionsBucket(): string {
    return `${this.prefix}_sessions`;
  }

  /** Pending timers of timed transitions, one key per token (the automation service's). */
  get timersBucket(): string {
    return `${this.prefix}_timers`;
  }

  /** The automation workers' partition leases and heartbeats. */
  get automationBucket(): string {
    return `${this.prefix}_automation`;
  }

  /**
   * Webhook registrations by `<tenant>.<hookId>` (written by the webhooks projection, read by
   * gateways and the automation). Not generational; deleted webhooks keep a tombstone.
   */
  get webhooksBucket(): string {
    return `${this.prefix}_webhooks`;
  }

  /** Each webhook's delivery status, same keys (written by the automation, read by gateways). */
  get webhookStatusBucket(): string {
    return `${this.prefix}_webhook_status`;
  }

  /** Rate-limit counters, one per key and fixed window. */
  get rateLimitBucket(): string {
    return `${this.prefix}_ratelimit`;
  }

  // ---- keys -----------------------------------------------------------------------------------

  /** Every read-model key starts with the tenant: `<tenant>.…`. */
  tokenKey(tenant: string, tokenId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('token id', tokenId);
    return `${tenant}.${tokenId}`;
  }

  /**
   * Head of one partition's share of a token index (`places` bucket), e.g.
   * `<tenant>.<workflow>.p.<place>.<partition>.h`; its chunks are `….c<chunk>`.
   */
  indexHeadKey(tenant: string, workflowId: string, index: TokenIndex, partition: number): string {
    return `${this.indexBase(tenant, workflowId, index, partition)}.h`;
  }

  indexChunkKey(
    tenant: string,
    workflowId: string,
    index: TokenIndex,
    partition: number,
    chunk: string,
  ): string {
    if (!CHUNK_ID.test(chunk)) throw new InvalidNameError('index chunk', chunk, '1-32 hex digits');
    return `${this.indexBase(tenant, workflowId, index, partition)}.c${chunk}`;
  }

  private indexBase(
    tenant: string,
    workflowId: string,
    index: TokenIndex,
    partition: number,
  ): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    this.assertPartition(partition);
    return `${tenant}.${workflowId}.${indexSegment(index)}.${partition}`;
  }

  statsKey(tenant: string, workflowId: string, partition: number): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    this.assertPartition(partition);
    return `${tenant}.${workflowId}.${partition}`;
  }

  statsKeyFilter(tenant: string, workflowId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${tenant}.${workflowId}.*`;
  }

  workflowKey(tenant: string, workflowId: string): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    return `${tenant}.${workflowId}`;
  }

  /** KV key filter of every tenant's latest definitions (one key per workflow). */
  workflowsKeyFilter(tenant: string): string {
    assertTenant(tenant);
    return `${tenant}.*`;
  }

  workflowVersionKey(tenant: string, workflowId: string, version: number): string {
    assertTenant(tenant);
    assertSubjectSafeId('workflow id', workflowId);
    if (!Number.isInteger(version) || version < 1) {
      throw new RangeError(`definition version must be a positive integer, got ${version}`);
    }
    return `${tenant}.${workflowId}.v${version}`;
  }

  /** The lease on one partition (or the definitions) of one read-model generation. */
  leaseKey(generation: number, item: number | 'definitions'): string {
    this.assertGeneration(generation);
    if (item !== 'definitions') this.assertPartition(item);
    return `lease.g${generation}.${item}`;
  }

  /** Key filter of every lease of a generation. */
  leaseKeyFilter(generation: number): string {
    this.assertGeneration(generation);
    return `lease.g${generation}.*`;
  }

  /** A projection worker's heartbeat (workers count each other to share partitions). */
  workerKey(workerId: string): string {
    assertSubjectSafeId('worker id', workerId);
    return `worker.${workerId}`;
  }

  get workerKeyFilter(): string {
    return 'worker.*';
  }

  /** The command service's lease on a partition (or the definitions): who writes its events. */
  commandLeaseKey(item: number | 'definitions'): string {
    if (item !== 'definitions') this.assertPartition(item);
    return `cmd.lease.${item}`;
  }

  /** A command service instance's heartbeat (instances count each other to share partitions). */
  commandWorkerKey(workerId: string): string {
    assertSubjectSafeId('worker id', workerId);
    return `cmd.worker.${workerId}`;
  }

  get commandWorkerKeyFilter(): string {
    return 'cmd.worker.*';
  }

  /** A token's timers in the timers bucket: `p<partition>.<tenant>.<tokenId>`. */
  timerKey(tenant: string, tokenId: string): string {
    return `p${this.tokenPartition(tokenId)}.${this.tokenKey(tenant, tokenId)}`;
  }

  /** Key filter of one partition's timers (loaded when a worker takes the partition). */
  timerKeyFilter(partition: number): string {
    this.assertPartition(partition);
    return `p${partition}.>`;
  }

  /** The automation's durable consumer of one partition's token events. */
  automationConsumer(partition: number): string {
    this.assertPartition(partition);
    return `${this.prefix}_auto_p${partition}`;
  }

  /** A webhook's record in the webhooks and status buckets: `<tenant>.<hookId>`. */
  webhookKey(tenant: string, hookId: string): string {
    assertTenant(tenant);
    this.assertWebhookId(hookId);
    return `${tenant}.${hookId}`;
  }

  /** Key filter of one tenant's webhooks. */
  webhooksKeyFilter(tenant: string): string {
    assertTenant(tenant);
    return `${tenant}.*`;
  }

  /** The automation's durable consumer of one webhook's token events (on the event stream). */
  webhookDeliveryConsumer(tenant: string, hookId: string): string {
    assertTenant(tenant);
    this.assertWebhookId(hookId);
    return `${this.prefix}_hook_${tenant}_${hookId}`;
  }

  /** The seq up to which a partition's events are applied, per generation. */
  watermarkKey(generation: number, item: number | 'definitions'): string {
    this.assertGeneration(generation);
    if (item !== 'definitions') this.assertPartition(item);
    return `applied.g${generation}.${item}`;
  }

  watermarkKeyFilter(generation: number): string {
    this.assertGeneration(generation);
    return `applied.g${generation}.*`;
  }

  /** Durable consumer of one partition for one read-model generation. */
  partitionConsumer(generation: number, partition: number): string {
    this.assertGeneration(generation);
    this.assertPartition(partition);
    return `${this.prefix}_proj_g${generation}_p${partition}`;
  }

  /** Durable consumer of the definitions for one read-model generation. */
  definitionsConsumer(generation: number): string {
    this.assertGeneration(generation);
    return `${this.prefix}_proj_g${generation}_defs`;
  }

  /** The API-key projection's consumer: not generational (the keys bucket is not a read model). */
  get keysConsumer(): string {
    return `${this.prefix}_proj_keys`;
  }

  /** The webhooks projection's consumer: not generational (like the keys'). */
  get webhooksConsumer(): string {
    return `${this.prefix}_proj_hooks`;
  }

  /** Meta key holding the partition count fixed at stream creation. */
  get partitionsMetaKey(): string {
    return 'partitions';
  }

  /** Meta key holding the read-model generation readers follow. */
  get readModelPointerKey(): string {
    return 'readmodels';
  }

  /** Idempotency records are keyed by a hex digest of the scoped key (computed by the caller). */
  idempotencyKey(digestHex: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(digestHex)) {
      throw new RangeError('idempotency record key must be a lowercase hex digest');
    }
    return digestHex;
  }

  /** An API key's record: keyed by the key id (base62, the `<id>` of `cb_<id>_<secret>`). */
  apiKeyRecordKey(keyId: string): string {
    if (!API_KEY_ID.test(keyId)) {
      throw new InvalidNameError('key id', keyId, '16 base62 characters');
    }
    return keyId;
  }

  /** A session's record: keyed by the lowercase SHA-256 hex of its token, never the token. */
  sessionRecordKey(tokenDigestHex: string): string {
    if (!SHA256_HEX.test(tokenDigestHex)) {
      throw new InvalidNameError('session key', tokenDigestHex, 'a lowercase SHA-256 hex digest');
    }
    return tokenDigestHex;
  }

  /** One key's counter for the fixed window starting at `windowStart` (seconds since the epoch). */
  rateLimitKey(keyId: string, windowStart: number): string {
    this.apiKeyRecordKey(keyId);
    if (!Number.isSafeInteger(windowStart) || windowStart < 0) {
      throw new RangeError(`window start must be a non-negative integer, got ${windowStart}`);
    }
    return `${keyId}.${windowStart}`;
  }

  private assertWebhookId(hookId: string): void {
    if (!WEBHOOK_ID.test(hookId)) {
      throw new InvalidNameError('webhook id', hookId, 'wh_ and 16 base62 characters');
    }
  }

  private assertGeneration(generation: number): void {
    if (!Number.isInteger(generation) || generation < 1) {
      throw new RangeError(`read-model generation must be a positive integer, got ${generation}`);
    }
  }

  private assertPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new RangeError(
        `partition must be an integer in [0, ${this.partitions}), got ${partition}`,
      );
    }
  }
}

const API_KEY_ID = /^[0-9A-Za-z]{16}$/;
/** Webhook ids: `wh_` and 16 base62 characters (subject-safe). */
export const WEBHOOK_ID_PATTERN = '^wh_[0-9A-Za-z]{16}$';
const WEBHOOK_ID = new RegExp(WEBHOOK_ID_PATTERN);
const SHA256_HEX = /^[0-9a-f]{64}$/;

function isSafe(value: string | undefined): boolean {
  return isSubjectSafeId(value);
}
