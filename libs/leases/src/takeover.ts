import type { WorkerHeartbeat } from '@cb/schemas';

/**
 * Slack after a peer's expiry before the round that takes its leases over: the peer wrote its
 * heartbeat and its leases with the same expiry, and a timer may fire a little early.
 */
export const TAKEOVER_SLACK_MS = 25;

/**
 * When a round should next run to take over a dead peer's leases: just after the earliest
 * expiry among the other workers of the generation whose heartbeats have not expired, or null
 * when there is none. A live peer renews its heartbeat (and its leases, with the same expiry)
 * every RENEW_SHARE of the TTL, which pushes this moment on; it only comes when a peer stopped
 * renewing — then its leases expire with its heartbeat, and waiting for the next regular round
 * would add up to a whole interval to the takeover.
 */
export function nextTakeoverAt(
  heartbeats: Iterable<readonly [string, WorkerHeartbeat]>,
  self: string,
  generation: number,
  now: number,
): number | null {
  let earliest: number | null = null;
  for (const [id, hb] of heartbeats) {
    if (id === self || hb.generation !== generation || hb.expiresAt <= now) continue;
    if (earliest === null || hb.expiresAt < earliest) earliest = hb.expiresAt;
  }
  return earliest === null ? null : earliest + TAKEOVER_SLACK_MS;
}
