import type { TimerEntry } from '@cb/schemas';
import { timersOf } from './token-timers';

/** The automation's entry of a token in `review` since seq 7, last event at seq 9. */
const entry = (overrides: Partial<TimerEntry> = {}): TimerEntry => ({
  tenant: 'acme',
  workflowId: 'wf',
  tokenId: 't1',
  definitionVersion: 1,
  status: 'live',
  place: 'review',
  enteredSeq: 7,
  seq: 9,
  timers: [
    { transition: 'remind', dueAt: '2024-05-01T10:00:00.000Z', armedBy: 7 },
    { transition: 'escalate', dueAt: '2024-05-03T10:00:00.000Z', armedBy: 7 },
  ],
  unarmed: [],
  failed: [],
  ...overrides,
});

describe('timersOf (a token read shows its pending timers)', () => {
  it('given an entry of the token’s place entry, then its timers in due order', () => {
    expect(timersOf({ place: 'review', version: 9 }, entry())).toEqual([
      { transition: 'remind', dueAt: '2024-05-01T10:00:00.000Z' },
      { transition: 'escalate', dueAt: '2024-05-03T10:00:00.000Z' },
    ]);
  });

  it('given a refused fire of that very timer, then it shows lastError (not for an older one)', () => {
    const failed = [
      {
        transition: 'remind',
        armedBy: 7,
        dueAt: '2024-05-01T10:00:00.000Z',
        error: 'GUARD_FAILED: no',
      },
      { transition: 'escalate', armedBy: 3, dueAt: '2024-05-03T10:00:00.000Z', error: 'old' },
    ];
    expect(timersOf({ place: 'review', version: 9 }, entry({ failed }))).toEqual([
      { transition: 'remind', dueAt: '2024-05-01T10:00:00.000Z', lastError: 'GUARD_FAILED: no' },
      { transition: 'escalate', dueAt: '2024-05-03T10:00:00.000Z' },
    ]);
  });

  it('given no entry, a deleted token, another place, or a read model before the place entry, then none', () => {
    const token = { place: 'review', version: 9 };
    expect(timersOf(token, null)).toBeUndefined();
    expect(timersOf(token, entry({ status: 'deleted', timers: [] }))).toBeUndefined();
    expect(timersOf(token, entry({ timers: [] }))).toBeUndefined();
    expect(timersOf({ place: 'draft', version: 9 }, entry())).toBeUndefined();
    expect(timersOf({ place: 'review', version: 6 }, entry())).toBeUndefined();
    expect(timersOf({ place: 'review', version: 7 }, entry())).toHaveLength(2);
  });
});
