import { type PartitionStats } from '@cb/schemas';
import { emptyStats } from './empty-stats';
import { sumStats } from './sum-stats';

const PLACES = ['draft', 'pending_review', 'reviewed', 'approved', 'rejected'];

function part(partition: number, fields: Partial<PartitionStats>): PartitionStats {
  return { ...emptyStats('document_review', partition), ...fields };
}

describe('sumStats', () => {
  it('given two partitions, then counts add up, definition places show 0 and averages are per stay', () => {
    const p0 = part(0, {
      seq: 40,
      places: { draft: 2, pending_review: 1 },
      transitionsFired: 3,
      transitions: { submit: 2, review: 1 },
      created: 4,
      deleted: 1,
      timeInPlace: {
        draft: { totalMs: 1000, count: 3 },
        pending_review: { totalMs: 500, count: 1 },
      },
      hourly: { '2024-05-01T10': { created: 4, completed: 0 } },
    });
    const p5 = part(5, {
      seq: 41,
      places: { draft: 1, approved: 1 },
      transitionsFired: 3,
      transitions: { submit: 1, review: 1, approve: 1 },
      created: 2,
      completed: 1,
      timeInPlace: { draft: { totalMs: 2000, count: 1 }, reviewed: { totalMs: 7, count: 2 } },
      hourly: {
        '2024-05-01T10': { created: 2, completed: 0 },
        '2024-05-01T11': { created: 0, completed: 1 },
      },
    });

    expect(sumStats('document_review', [p0, p5], PLACES)).toEqual({
      workflowId: 'document_review',
      totalTokens: 5,
      places: { draft: 3, pending_review: 1, reviewed: 0, approved: 1, rejected: 0 },
      transitionsFired: 6,
      transitions: { submit: 3, review: 2, approve: 1 },
      created: 6,
      deleted: 1,
      completed: 1,
      averageTimeInPlaceMs: {
        draft: 750,
        pending_review: 500,
        reviewed: 4,
        approved: 0,
        rejected: 0,
      },
      hourly: {
        '2024-05-01T10': { created: 6, completed: 0 },
        '2024-05-01T11': { created: 0, completed: 1 },
      },
    });
  });

  it('given no partitions, then every definition place is listed with 0', () => {
    const stats = sumStats('document_review', [], ['draft', 'approved']);
    expect(stats).toEqual({
      workflowId: 'document_review',
      totalTokens: 0,
      places: { draft: 0, approved: 0 },
      transitionsFired: 0,
      transitions: {},
      created: 0,
      deleted: 0,
      completed: 0,
      averageTimeInPlaceMs: { draft: 0, approved: 0 },
      hourly: {},
    });
  });

  it('given places not in the definition (an older version), then they are kept', () => {
    const stats = sumStats('document_review', [
      part(1, { places: { archived: 2 }, timeInPlace: { archived: { totalMs: 9, count: 3 } } }),
    ]);
    expect(stats.places).toEqual({ archived: 2 });
    expect(stats.averageTimeInPlaceMs).toEqual({ archived: 3 });
    expect(stats.totalTokens).toBe(2);
  });

  it('given partitions with different newest hours, then only the combined window is returned', () => {
    const old = part(0, {
      hourly: {
        '2024-05-01T10': { created: 1, completed: 0 },
        '2024-05-02T10': { created: 1, completed: 0 },
      },
    });
    const recent = part(1, { hourly: { '2024-05-08T10': { created: 1, completed: 0 } } });

    const { hourly } = sumStats('document_review', [old, recent]);

    // 168 hours ending 2024-05-08T10 start at 2024-05-01T11.
    expect(Object.keys(hourly)).toEqual(['2024-05-02T10', '2024-05-08T10']);
  });
});
