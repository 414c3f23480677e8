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
 * touch it (no update, delete or purge): report every difference and refuse to start — with
 * STREAM_LAYOUT_OUTDATED and the `legacy` advice when it has an earlier version's subjects.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  desired: Partial<StreamConfig>,
  logger: Logger,
  legacy?: LegacyLayout,
): Promise<'created' | 'unchanged'> {
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
  const drift = streamDrift(desired, info.config);
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
