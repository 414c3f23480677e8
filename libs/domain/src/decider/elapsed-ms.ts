/** Whole milliseconds from `since` to `now`; 0 if the clock went backwards or a time is unreadable. */
export function elapsedMs(since: string, now: string): number {
  const ms = Math.floor(Date.parse(now) - Date.parse(since));
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
