import { type PartitionStats } from '@cb/schemas';

/** Stats of a workflow in a partition before any event (`seq` 0: nothing applied). */
export function emptyStats(workflowId: string, partition: number): PartitionStats {
  return {
    workflowId,
    partition,
    seq: 0,
    places: {},
    transitionsFired: 0,
    transitions: {},
    created: 0,
    deleted: 0,
    completed: 0,
    timeInPlace: {},
    hourly: {},
  };
}
