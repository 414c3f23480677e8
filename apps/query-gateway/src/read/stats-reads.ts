import { sumStats } from '@cb/domain';
import { decodeJson } from '@cb/nats';
import type { PartitionStats, StatsResponse } from '@cb/schemas';
import { kvSubject } from '@cb/subjects';
import { ApiError } from '../api-error';
import { isPut, scanKeys, type AsOf, type ReadContext } from './context';
import type { WorkflowReads } from './workflow-reads';

const HOUR_MS = 3_600_000;

/** A workflow's stats: the partitions' stats summed, counted over a window. */
export class StatsReads {
  constructor(
    private readonly ctx: ReadContext,
    private readonly workflows: WorkflowReads,
  ) {}

  /** Partition stats summed; created/completed counted over [from, to) at hour resolution. */
  async stats(
    tenant: string,
    workflowId: string,
    window: { from?: string; to?: string },
    minSeq?: number,
  ): Promise<AsOf<StatsResponse>> {
    const definition = await this.workflows.workflow(tenant, workflowId);
    const to = window.to ? new Date(window.to) : new Date();
    const from = window.from ? new Date(window.from) : new Date(to.getTime() - 24 * HOUR_MS);
    if (!(from.getTime() < to.getTime())) {
      throw new ApiError('VALIDATION_ERROR', '`from` must be before `to`', {
        errors: [{ path: 'querystring/from', message: 'must be before to' }],
      });
    }
    const bucket = this.ctx.view.kv('stats').bucket;
    const progress = this.ctx.freshness.newProgress();
    await this.ctx.freshness.waitCovered(minSeq, (marks) =>
      this.ctx.freshness.partitionsCovered(minSeq ?? 0, marks, { tenant, workflowId }, progress),
    );
    const lowBefore = this.ctx.freshness.lowestWatermark();
    const messages = await scanKeys(
      this.ctx,
      bucket,
      kvSubject(bucket, this.ctx.naming.statsKeyFilter(tenant, workflowId)),
    );
    const parts = messages
      .filter(isPut)
      .map((m) => decodeJson(m.data) as PartitionStats | undefined)
      .filter((s): s is PartitionStats => s !== undefined);
    const summed = sumStats(workflowId, parts, definition.places);
    let created = 0;
    let completed = 0;
    for (const [hour, counts] of Object.entries(summed.hourly)) {
      const start = Date.parse(`${hour}:00:00.000Z`);
      // An hour counts when it overlaps the window.
      if (start + HOUR_MS > from.getTime() && start < to.getTime()) {
        created += counts.created;
        completed += counts.completed;
      }
    }
    return {
      value: {
        ...summed,
        window: { from: from.toISOString(), to: to.toISOString(), created, completed },
      },
      asOf: Math.max(lowBefore, minSeq ?? 0),
    };
  }
}
