import { boundedProbe, type ReadinessCheck } from '@cb/ops';

/** How long /ready waits for JetStream: with the rest, /ready answers within about a second. */
export const PROBE_TIMEOUT_MS = 750;

export interface WorkerReadinessDeps {
  /** The NATS connection is up (false while reconnecting). */
  connected: () => boolean;
  /** One cheap JetStream read (a direct get in the projector bucket) within `timeoutMs`. */
  read: (timeoutMs: number) => Promise<unknown>;
  /** The generation the worker projects into, null before it started. */
  generation: () => number | null;
  /** The owned partitions whose attempts keep failing. */
  failing: () => readonly unknown[];
}

/**
 * What /ready of a worker checks: it is connected, JetStream answers it within the bound (a
 * frozen server or a half-open connection looks connected for up to the ping timeout), it
 * follows a generation, and none of its partitions is stuck retrying failed attempts.
 */
export function workerReadiness(
  deps: WorkerReadinessDeps,
  timeoutMs = PROBE_TIMEOUT_MS,
): ReadinessCheck[] {
  const answers = boundedProbe(() => deps.read(timeoutMs), timeoutMs);
  return [
    { name: 'nats', check: deps.connected },
    { name: 'jetStreamAnswers', check: () => deps.connected() && answers() },
    { name: 'projector', check: () => deps.generation() !== null },
    { name: 'partitionsApplying', check: () => deps.failing().length === 0 },
  ];
}
