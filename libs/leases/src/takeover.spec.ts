import type { WorkerHeartbeat } from '@cb/schemas';
import { TAKEOVER_SLACK_MS, nextTakeoverAt } from './takeover';

function hb(id: string, expiresAt: number, generation = 1): [string, WorkerHeartbeat] {
  return [id, { id, expiresAt, partitions: [], generation }];
}

describe('nextTakeoverAt', () => {
  const now = 10_000;

  it('given live peers, is just after the earliest of their expiries', () => {
    const at = nextTakeoverAt([hb('a', 12_000), hb('b', 11_500), hb('c', 13_000)], 'me', 1, now);
    expect(at).toBe(11_500 + TAKEOVER_SLACK_MS);
  });

  it('ignores its own heartbeat, other generations and heartbeats already expired', () => {
    const beats = [hb('me', 10_100), hb('rebuild', 10_200, 2), hb('gone', 9_000), hb('b', 12_000)];
    expect(nextTakeoverAt(beats, 'me', 1, now)).toBe(12_000 + TAKEOVER_SLACK_MS);
  });

  it('given no live peer, is null (nothing to take over)', () => {
    expect(nextTakeoverAt([hb('me', 12_000), hb('gone', now)], 'me', 1, now)).toBeNull();
    expect(nextTakeoverAt([], 'me', 1, now)).toBeNull();
  });
});
