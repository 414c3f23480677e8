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

/** What one closed loop measured, before it is summarized. */
interface Run {
  samples: number[];
  seconds: number;
  errors: number;
}

async function runLoop(
  concurrency: number,
  seconds: number,
  op: (worker: number) => Promise<boolean>,
  minOps = 0,
): Promise<Run> {
  const samples: number[] = [];
  let errors = 0;
  let started = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline || started < minOps) {
        started++;
        const t0 = performance.now();
        const ok = await op(worker);
        if (ok) samples.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  return { samples, seconds: (performance.now() - start) / 1000, errors };
}

/**
 * Run `op` from `concurrency` workers until `seconds` have passed and at least `minOps` have
 * started (so slow operations still get a p50 worth the name); each worker gets its index.
 * Returns per-operation latencies.
 */
export async function closedLoop(
  concurrency: number,
  seconds: number,
  op: (worker: number) => Promise<boolean>,
  minOps = 0,
): Promise<Summary> {
  const run = await runLoop(concurrency, seconds, op, minOps);
  return summarize(run.samples, run.seconds, run.errors);
}

/** Something measured over exactly the spans a variant runs (e.g. a `CpuMeter`). */
export interface SpanMeter {
  start(): void;
  stop(): void;
}

/**
 * Two variants of one workload, measured A B B A for a quarter of `seconds` each, so that the
 * machine's drift over the run (and the JIT warming up) falls on both alike; each summary merges
 * its two halves. `meters` run over each variant's spans.
 */
export async function alternating(
  concurrency: number,
  seconds: number,
  a: (worker: number) => Promise<boolean>,
  b: (worker: number) => Promise<boolean>,
  meters?: Record<'a' | 'b', SpanMeter>,
): Promise<{ a: Summary; b: Summary }> {
  const runs: Record<'a' | 'b', Run[]> = { a: [], b: [] };
  for (const which of ['a', 'b', 'b', 'a'] as const) {
    meters?.[which].start();
    runs[which].push(await runLoop(concurrency, seconds / 4, which === 'a' ? a : b));
    meters?.[which].stop();
  }
  const merged = (r: Run[]): Summary =>
    summarize(
      r.flatMap((x) => x.samples),
      r.reduce((t, x) => t + x.seconds, 0),
      r.reduce((t, x) => t + x.errors, 0),
    );
  return { a: merged(runs.a), b: merged(runs.b) };
}

/** `s`'s rate as a share of `of`'s, e.g. `31.2 %`. */
export function pct(s: Summary, of: Summary): string {
  return `${((100 * s.rate) / of.rate).toFixed(1)} %`;
}

export function row(label: string, s: Summary, baseline?: Summary): string {
  const share = baseline ? pct(s, baseline) : '';
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
