import {
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
  JetStreamApiError,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import type { Naming } from '@cb/subjects';
import { JS_ERR, NatsPlatformError } from './errors';

export interface StreamSettings {
  /** Replicas of the event and dead-letter streams (1 locally, 3 in a cluster). */
  replicas: number;
  /** JetStream de-duplication window: how long an Idempotency-Key is remembered. */
  duplicateWindowMs: number;
}

/** Fields whose drift we detect. Others (e.g. description) may differ freely. */
const COMPARED: readonly (keyof StreamConfig)[] = [
  'subjects',
  'retention',
  'storage',
  'num_replicas',
  'max_age',
  'max_msgs',
  'max_bytes',
  'max_msgs_per_subject',
  'discard',
  'duplicate_window',
  'allow_direct',
  'deny_delete',
  'deny_purge',
];

/** A file stream that keeps every message (limits retention with no limits at all), direct gets on. */
export interface KeepAllStream {
  name: string;
  description: string;
  subjects: string[];
  replicas: number;
  duplicateWindowMs: number;
  /** Refuse deleting and purging messages (deny_delete, deny_purge). */
  protect: boolean;
}

export function keepAllStreamConfig(s: KeepAllStream): Partial<StreamConfig> {
  return {
    name: s.name,
    description: s.description,
    subjects: s.subjects,
    retention: 'limits',
    storage: 'file',
    num_replicas: s.replicas,
    max_age: 0,
    max_msgs: -1,
    max_bytes: -1,
    max_msgs_per_subject: -1,
    discard: 'old',
    duplicate_window: nanos(s.duplicateWindowMs),
    allow_direct: true,
    deny_delete: s.protect,
    deny_purge: s.protect,
  };
}

/** The event stream: the system of record, every event kept, none deleted or purged. */
export function eventStreamConfig(naming: Naming, settings: StreamSettings): Partial<StreamConfig> {
  return keepAllStreamConfig({
    name: naming.stream,
    description: 'Circuit Breaker events (system of record)',
    subjects: naming.streamSubjects,
    replicas: settings.replicas,
    duplicateWindowMs: settings.duplicateWindowMs,
    protect: true,
  });
}

/** Dead letters of the projections: kept until an operator deals with them. */
export function deadLetterStreamConfig(
  naming: Naming,
  settings: StreamSettings,
): Partial<StreamConfig> {
  return keepAllStreamConfig({
    name: naming.deadLetterStream,
    description: 'Circuit Breaker projection dead letters',
    subjects: naming.deadLetterSubjects,
    replicas: settings.replicas,
    duplicateWindowMs: 120_000,
    protect: false,
  });
}

/**
 * The webhook deliveries log: each webhook's recent attempts (200 per webhook, 7 days), not the
 * system of record, so old attempts go without anyone deleting them.
 */
export function webhookDeliveriesStreamConfig(
  naming: Naming,
  settings: StreamSettings,
): Partial<StreamConfig> {
  return {
    name: naming.webhookDeliveriesStream,
    description: 'Circuit Breaker webhook delivery attempts (recent ones per webhook)',
    subjects: naming.webhookDeliveriesSubjects,
    retention: 'limits',
    storage: 'file',
    num_replicas: settings.replicas,
    max_age: nanos(WEBHOOK_DELIVERIES_MAX_AGE_MS),
    max_msgs: -1,
    max_bytes: -1,
    max_msgs_per_subject: WEBHOOK_DELIVERIES_PER_WEBHOOK,
    discard: 'old',
    duplicate_window: nanos(120_000),
    allow_direct: true,
    deny_delete: false,
    deny_purge: false,
  };
}

/** Attempts kept per webhook on the deliveries stream. */
export const WEBHOOK_DELIVERIES_PER_WEBHOOK = 200;
/** How long an attempt is kept on the deliveries stream. */
export const WEBHOOK_DELIVERIES_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface DriftItem {
  field: string;
  expected: unknown;
  actual: unknown;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** Compare a desired configuration with what the server has. */
export function streamDrift(desired: Partial<StreamConfig>, actual: StreamConfig): DriftItem[] {
  const drift: DriftItem[] = [];
  for (const field of COMPARED) {
    const want = desired[field];
    if (want === undefined) continue;
    const have = actual[field];
    const same =
      Array.isArray(want) && Array.isArray(have)
        ? [...want].sort().join('\n') === [...have].sort().join('\n')
        : want === have;
    if (!same) drift.push({ field, expected: want, actual: have });
  }
  return drift;
}

/** A subject layout an earlier version wrote, and what an operator does about a stream in it. */
export interface LegacyLayout {
  subjects: readonly string[];
  advice: string;
}

/**
 * Create the stream if it does not exist. If it exists with a different configuration, never
 * touch it (no delete or purge): report every difference and refuse to start — with
 * STREAM_LAYOUT_OUTDATED and the `legacy` advice when it has an earlier version's subjects.
 * The one change made in place: a stream whose subjects lack some of `addable` (subjects a later
 * version introduced, e.g. the webhook registrations) and differ in nothing else gets them added
 * (`updated`); adding a subject changes no stored message. A user that may not update the stream
 * fails with a permissions violation (see `provision`: it waits for one that may).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  desired: Partial<StreamConfig>,
  logger: Logger,
  legacy?: LegacyLayout,
  addable: readonly string[] = [],
): Promise<'created' | 'unchanged' | 'updated'> {
  const name = desired.name as string;
  const log = logger.child({ component: 'stream-setup', stream: name });
  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JS_ERR.streamNotFound)) throw err;
  }
  if (info === null) {
    try {
      await jsm.streams.add({ ...desired, name });
      log.info({ subjects: desired.subjects, replicas: desired.num_replicas }, 'stream created');
      return 'created';
    } catch (err) {
      // Another service may have created it at the same moment: fall through to the check.
      info = await jsm.streams.info(name).catch(() => {
        throw err;
      });
    }
  }
  let drift = streamDrift(desired, info.config);
  const have = info.config.subjects ?? [];
  const missing = (desired.subjects ?? []).filter((s) => !have.includes(s));
  if (
    drift.length === 1 &&
    drift[0]!.field === 'subjects' &&
    missing.length > 0 &&
    missing.every((s) => addable.includes(s)) &&
    have.every((s) => (desired.subjects ?? []).includes(s))
  ) {
    const updated = await jsm.streams.update(name, {
      ...info.config,
      subjects: [...have, ...missing],
    });
    log.info({ added: missing }, 'stream subjects added');
    drift = streamDrift(desired, updated.config);
    if (drift.length === 0) return 'updated';
  }
  if (legacy && sameSet(info.config.subjects ?? [], legacy.subjects)) {
    log.error(
      { subjects: info.config.subjects },
      'stream has an earlier layout; refusing to start',
    );
    throw new NatsPlatformError(
      'STREAM_LAYOUT_OUTDATED',
      `stream ${name} holds events in an earlier subject layout (${legacy.subjects.join(', ')}); ` +
        `this version needs ${(desired.subjects ?? []).join(', ')}. Nothing was changed. ${legacy.advice}`,
    );
  }
  if (drift.length > 0) {
    const lines = drift.map(
      (d) =>
        `${d.field}: server has ${JSON.stringify(d.actual)}, configuration wants ${JSON.stringify(d.expected)}`,
    );
    log.error({ drift }, 'stream configuration drift; refusing to start');
    throw new NatsPlatformError(
      'STREAM_DRIFT',
      `stream ${name} exists with a different configuration (it is never changed automatically):\n  ` +
        `${lines.join('\n  ')}\nalign the configuration with the server, or change the stream ` +
        `deliberately (e.g. \`nats stream edit ${name}\`)`,
    );
  }
  log.debug('stream configuration matches');
  return 'unchanged';
}
