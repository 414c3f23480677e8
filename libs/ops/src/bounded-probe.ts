/**
 * `probe` as a check that answers within `timeoutMs` whatever it does: true once it resolved,
 * false when it rejected or took longer. Concurrent checks share the probe in flight.
 */
export function boundedProbe(
  probe: () => Promise<unknown>,
  timeoutMs: number,
): () => Promise<boolean> {
  let inFlight: Promise<boolean> | null = null;
  return () => {
    inFlight ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const settle = (ok: boolean): void => {
        clearTimeout(timer);
        resolve(ok);
      };
      Promise.resolve()
        .then(probe)
        .then(
          () => settle(true),
          () => settle(false),
        );
    }).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
