import { timeline, whoOf, type HistoryItem } from './history';

const state = (
  place: string,
  data: Record<string, never> | Record<string, unknown>,
  metadata = {},
) => ({ place, data, metadata }) as HistoryItem['event']['state'];

const items: HistoryItem[] = [
  {
    seq: 3,
    event: {
      type: 'token.created.v1',
      occurredAt: '2026-01-01T00:00:00.000Z',
      principal: { tenant: 'default', keyId: 'root' },
      state: state('draft', { title: 'T', words: 10 }, { batch: 'b1' }),
    },
  },
  {
    seq: 7,
    event: {
      type: 'token.transitioned.v1',
      occurredAt: '2026-01-01T00:01:00.000Z',
      principal: { tenant: 'default', keyId: 'AbCdEfGhIjKlMnOp' },
      triggeredBy: 'alice',
      transition: 'submit',
      from: 'draft',
      to: 'review',
      dataPatch: { words: 200 },
      state: state('review', { title: 'T', words: 200 }, { batch: 'b1' }),
    },
  },
  {
    seq: 9,
    event: {
      type: 'token.updated.v1',
      occurredAt: '2026-01-01T00:02:00.000Z',
      principal: { tenant: 'default', keyId: 'root' },
      metadataPatch: { batch: null, owner: 'bo' } as never,
      state: state('review', { title: 'T', words: 200 }, { owner: 'bo' }),
    },
  },
  {
    seq: 12,
    event: {
      type: 'token.deleted.v1',
      occurredAt: '2026-01-01T00:03:00.000Z',
      principal: { tenant: 'default', keyId: 'system' },
      place: 'review',
      state: state('review', { title: 'T', words: 200 }, { owner: 'bo' }),
    },
  },
];

describe('timeline', () => {
  it('says who, when and what, and what changed against the state before', () => {
    const t = timeline(items);
    expect(t.map((e) => [e.seq, e.who, e.what])).toEqual([
      [3, 'root', 'created in draft'],
      [7, 'AbCdEfGhIjKlMnOp (alice)', 'submit: draft → review'],
      [9, 'root', 'data/metadata updated'],
      [12, 'system', 'deleted from review'],
    ]);
    expect(t[0]!.changes.map((c) => c.path)).toEqual([
      '/data/title',
      '/data/words',
      '/metadata/batch',
    ]);
    expect(t[1]!.changes).toEqual([
      { path: '/data/words', kind: 'changed', before: 10, after: 200 },
    ]);
    expect(t[1]!.patch).toEqual({ data: { words: 200 } });
    expect(t[2]!.changes).toEqual([
      { path: '/metadata/owner', kind: 'added', after: 'bo' },
      { path: '/metadata/batch', kind: 'removed', before: 'b1' },
    ]);
    expect(t[3]!.changes).toEqual([]);
    expect(t[3]!.patch).toBeUndefined();
  });

  it('a later page starts from the state before it', () => {
    const t = timeline(items.slice(1, 2), items[0]!.event.state);
    expect(t[0]!.changes.map((c) => c.path)).toEqual(['/data/words']);
  });

  it('whoOf without a principal', () => {
    expect(whoOf({})).toBe('unknown');
  });
});
