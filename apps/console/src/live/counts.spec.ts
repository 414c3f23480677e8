import type { SequencedEvent } from '../api';
import { MAX_LOG, awaitResync, emptyCounts, foldEvent, resync, sequencedEventOf } from './counts';

const base = {
  eventId: 'e',
  occurredAt: '2025-01-01T00:00:00.000Z',
  workflowId: 'w',
  tokenId: 't',
};
const state = { place: 'a', data: {}, metadata: {}, version: 1 } as never;

function created(seq: number, place: string): SequencedEvent {
  return { seq, event: { ...base, type: 'token.created.v1', place, state } };
}
function moved(seq: number, from: string, to: string): SequencedEvent {
  return {
    seq,
    event: {
      ...base,
      type: 'token.transitioned.v1',
      transition: 'go',
      from,
      to,
      timeInPlaceMs: 1,
      toFinal: false,
      state,
    },
  };
}
function deleted(seq: number, place: string): SequencedEvent {
  return { seq, event: { ...base, type: 'token.deleted.v1', place, timeInPlaceMs: 1, state } };
}

describe('live counts', () => {
  it('folds created, transitioned and deleted after a read', () => {
    let s = resync(emptyCounts(), { a: 1, b: 0 }, 1, 10);
    s = foldEvent(s, created(11, 'a'));
    s = foldEvent(s, moved(12, 'a', 'b'));
    s = foldEvent(s, deleted(13, 'a'));
    expect(s.counts).toEqual({ a: 0, b: 1 });
    expect(s.total).toBe(1);
    expect(s.seq).toBe(13);
  });

  it('skips events the read already holds and events seen twice', () => {
    let s = resync(emptyCounts(), { a: 2 }, 2, 10);
    s = foldEvent(s, created(9, 'a'));
    s = foldEvent(s, created(10, 'a'));
    s = foldEvent(s, created(11, 'a'));
    s = foldEvent(s, created(11, 'a'));
    expect(s.counts).toEqual({ a: 3 });
  });

  it('holds events that come before the read and folds those after its seq', () => {
    let s = emptyCounts();
    s = foldEvent(s, created(5, 'a'));
    s = foldEvent(s, created(6, 'a'));
    expect(s.counts).toEqual({});
    s = resync(s, { a: 1 }, 1, 5);
    expect(s.counts).toEqual({ a: 2 });
    expect(s.seq).toBe(6);
  });

  it('on reconnect replays what a lagging read has not seen yet', () => {
    let s = resync(emptyCounts(), { a: 0 }, 0, 100);
    for (let seq = 101; seq <= 110; seq++) s = foldEvent(s, created(seq, 'a'));
    s = awaitResync(s);
    // Resumed with Last-Event-ID 110: the stream goes on at 111, the read is behind at 105.
    s = foldEvent(s, created(111, 'a'));
    s = resync(s, { a: 5 }, 5, 105);
    expect(s.counts).toEqual({ a: 11 });
    expect(s.total).toBe(11);
    expect(s.stale).toBe(false);
  });

  it('never goes below zero and marks a read older than the log as stale', () => {
    let s = resync(emptyCounts(), { a: 0 }, 0, 0);
    s = foldEvent(s, deleted(1, 'a'));
    expect(s.counts).toEqual({ a: 0 });
    for (let seq = 2; seq < MAX_LOG + 10; seq++) s = foldEvent(s, moved(seq, 'a', 'b'));
    expect(s.log.length).toBe(MAX_LOG);
    expect(resync(s, {}, 0, 1).stale).toBe(true);
    expect(resync(s, {}, 0, s.seq).stale).toBe(false);
  });

  it('reads an SSE data payload, refusing what is not { seq, event }', () => {
    expect(sequencedEventOf(JSON.stringify(created(3, 'a')))?.seq).toBe(3);
    expect(sequencedEventOf('nope')).toBeUndefined();
    expect(sequencedEventOf('{"seq":-1,"event":{"type":"x"}}')).toBeUndefined();
    expect(sequencedEventOf('{"seq":1,"event":null}')).toBeUndefined();
  });
});
