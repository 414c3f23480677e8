import { type HourlyCounts, type PartitionStats, type WorkflowStats } from '@cb/schemas';
import { pruneHourly } from './hourly';

/**
 * A workflow's stats for the API: its partition stats summed. `places` are the definition's places,
 * listed with 0 (count and average) when no token is or was there. Averages are whole milliseconds.
 */
export function sumStats(
  workflowId: string,
  parts: PartitionStats[],
  places: string[] = [],
): WorkflowStats {
  const live = new Map<string, number>(places.map((p) => [p, 0]));
  const transitions = new Map<string, number>();
  const stays = new Map<string, { totalMs: number; count: number }>(
    places.map((p) => [p, { totalMs: 0, count: 0 }]),
  );
  const hourly = new Map<string, HourlyCounts>();
  const totals = { transitionsFired: 0, created: 0, deleted: 0, completed: 0 };

  for (const part of parts) {
    addAll(live, part.places);
    addAll(transitions, part.transitions);
    for (const [place, { totalMs, count }] of Object.entries(part.timeInPlace)) {
      const sum = stays.get(place) ?? { totalMs: 0, count: 0 };
      stays.set(place, { totalMs: sum.totalMs + totalMs, count: sum.count + count });
    }
    for (const [hour, { created, completed }] of Object.entries(part.hourly)) {
      const sum = hourly.get(hour) ?? { created: 0, completed: 0 };
      hourly.set(hour, { created: sum.created + created, completed: sum.completed + completed });
    }
    totals.transitionsFired += part.transitionsFired;
    totals.created += part.created;
    totals.deleted += part.deleted;
    totals.completed += part.completed;
  }

  return {
    workflowId,
    totalTokens: [...live.values()].reduce((a, b) => a + b, 0),
    places: Object.fromEntries(live),
    ...totals,
    transitions: Object.fromEntries(transitions),
    averageTimeInPlaceMs: Object.fromEntries(
      [...stays].map(([place, s]) => [place, s.count === 0 ? 0 : Math.round(s.totalMs / s.count)]),
    ),
    // Every partition keeps at least the hours of the combined window, so its sums are exact.
    hourly: pruneHourly(Object.fromEntries(hourly)),
  };
}

function addAll(into: Map<string, number>, counts: Record<string, number>): void {
  for (const [key, n] of Object.entries(counts)) into.set(key, (into.get(key) ?? 0) + n);
}
