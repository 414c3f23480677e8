/** Restart back-off of the launcher's children: 0.5 s doubling to 30 s, reset by a minute up. */
export const RESTART_FIRST_MS = 500;
export const RESTART_MAX_MS = 30_000;
export const RESTART_RESET_AFTER_MS = 60_000;

/**
 * How long to wait before restarting a child that died after `uptimeMs`, when the wait before
 * its previous restart was `previousMs` (undefined: it never was restarted).
 */
export function restartDelay(previousMs: number | undefined, uptimeMs: number): number {
  if (previousMs === undefined || uptimeMs >= RESTART_RESET_AFTER_MS) return RESTART_FIRST_MS;
  return Math.min(previousMs * 2, RESTART_MAX_MS);
}
