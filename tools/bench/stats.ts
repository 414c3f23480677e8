/** Latency samples in milliseconds → the figures a benchmark prints. */
export interface Summary {
  count: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

export function summarize(samples: number[], seconds: number, errors = 0): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
  return {
    count: samples.length,
    seconds,
    rate: samples.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    errors,
  };
}

/**
 * Run `op` from `concurrency` workers until `seconds` have passed; each worker gets its index.
 * Returns per-operation latencies.
 */
export async function closedLoop(
  concurrency: number,
  seconds: number,
  op: (worker: number) => Promise<boolean>,
): Promise<Summary> {
  const samples: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await op(worker);
        if (ok) samples.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  return summarize(samples, (performance.now() - start) / 1000, errors);
}

export function row(label: string, s: Summary, baseline?: Summary): string {
  const share = baseline ? `${((100 * s.rate) / baseline.rate).toFixed(1)} %` : '';
  return [
    label.padEnd(44),
    `${s.rate.toFixed(0).padStart(7)}/s`,
    `p50 ${s.p50.toFixed(2).padStart(6)} ms`,
    `p99 ${s.p99.toFixed(2).padStart(6)} ms`,
    `n=${s.count}`,
    s.errors ? `errors=${s.errors}` : '',
    share ? `(${share} of raw)` : '',
  ]
    .filter(Boolean)
    .join('  ');
}
