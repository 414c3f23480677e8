import {
  Lease,
  PartitionStats,
  PartitionWatermark,
  PlaceEntry,
  ReadModelPointer,
  Token,
  TokenDoc,
  WorkerHeartbeat,
  WorkflowStats,
} from './index';
import { compileValidator } from './validate';

const T = '2024-05-01T10:00:00.000Z';
const token: Token = {
  id: 't1',
  workflowId: 'w',
  definitionVersion: 1,
  place: 'draft',
  data: {},
  metadata: {},
  createdAt: T,
  updatedAt: T,
  placeEnteredAt: T,
  version: 7,
};

describe('read-model schemas', () => {
  it('accepts a token doc, its tombstone, and a place entry of the same shape as Token', () => {
    const doc = compileValidator(TokenDoc);
    expect(doc.errors(token)).toEqual([]);
    expect(doc.errors({ ...token, deleted: true, deletedAt: T })).toEqual([]);
    expect(doc.check({ ...token, deleted: false })).toBe(false);
    expect(doc.check({ ...token, extra: 1 })).toBe(false);
    expect(compileValidator(PlaceEntry).errors(token)).toEqual([]);
    expect(compileValidator(PlaceEntry).check({ ...token, deleted: true })).toBe(false);
    expect(PlaceEntry.properties).toEqual(Token.properties);
  });

  it('accepts partition stats with hour keys and rejects malformed hours', () => {
    const v = compileValidator(PartitionStats);
    const stats: PartitionStats = {
      workflowId: 'w',
      partition: 3,
      seq: 42,
      places: { draft: 2 },
      transitionsFired: 1,
      transitions: { submit: 1 },
      created: 3,
      deleted: 0,
      completed: 0,
      timeInPlace: { draft: { totalMs: 10, count: 1 } },
      hourly: { '2024-05-01T10': { created: 3, completed: 0 } },
    };
    expect(v.errors(stats)).toEqual([]);
    expect(v.check({ ...stats, hourly: { '2024-05-01': { created: 1, completed: 0 } } })).toBe(
      false,
    );
    expect(v.check({ ...stats, seq: -1 })).toBe(false);
  });

  it('accepts workflow stats with definition places at 0', () => {
    const v = compileValidator(WorkflowStats);
    const stats: WorkflowStats = {
      workflowId: 'w',
      totalTokens: 2,
      places: { draft: 2, done: 0 },
      transitionsFired: 0,
      transitions: {},
      created: 2,
      deleted: 0,
      completed: 0,
      averageTimeInPlaceMs: { draft: 0, done: 0 },
      hourly: {},
    };
    expect(v.errors(stats)).toEqual([]);
  });

  it('accepts projector bookkeeping and rejects out-of-range values', () => {
    expect(compileValidator(ReadModelPointer).check({ generation: 1, switchedAt: T })).toBe(true);
    expect(compileValidator(ReadModelPointer).check({ generation: 0, switchedAt: T })).toBe(false);
    expect(compileValidator(PartitionWatermark).check({ seq: 9, at: T })).toBe(true);
    const lease = compileValidator(Lease);
    expect(lease.check({ owner: 'w-1', expiresAt: 1714557600000, generation: 2 })).toBe(true);
    expect(lease.check({ owner: '', expiresAt: 1, generation: 2 })).toBe(false);
    expect(lease.check({ owner: 'w-1', expiresAt: 1.5, generation: 2 })).toBe(false);
    const heartbeat = compileValidator(WorkerHeartbeat);
    expect(heartbeat.check({ id: 'w-1', expiresAt: 1, partitions: [0, 3], generation: 1 })).toBe(
      true,
    );
    expect(heartbeat.check({ id: 'w-1', expiresAt: 1, partitions: [-1], generation: 1 })).toBe(
      false,
    );
  });
});
