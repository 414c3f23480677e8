import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One process of the stack under measurement. */
export interface NamedProcess {
  name: string;
  pid: number;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux almost always). */
const CLOCK_TICKS = ((): number => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU milliseconds `pid` has used so far (user + system, fields 14 and 15 of /proc/<pid>/stat),
 * or NaN once it is gone. Read from outside, so it costs the measured process nothing.
 */
export function cpuMsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return NaN;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU milliseconds per 1,000 operations of each process over one measured interval. */
export interface CpuCost {
  name: string;
  msPer1000: number;
}

/**
 * Starts measuring the CPU of `processes` and of this process (the load generator, which shares
 * the cores); the returned function ends the interval and spreads each one's CPU over `ops`.
 */
export function cpuMeter(processes: NamedProcess[]): (ops: number) => CpuCost[] {
  const before = processes.map((p) => cpuMsOf(p.pid));
  const self = process.cpuUsage();
  return (ops) => {
    const per1000 = (ms: number): number => (ms * 1000) / Math.max(ops, 1);
    const own = process.cpuUsage(self);
    return [
      ...processes.map((p, i) => ({
        name: p.name,
        msPer1000: per1000(cpuMsOf(p.pid) - before[i]!),
      })),
      { name: 'load generator', msPer1000: per1000((own.user + own.system) / 1000) },
    ];
  };
}

/** `CPU ms per 1,000 fires: gateway 410, command 205, …` (a process that died shows NaN). */
export function cpuLine(what: string, costs: CpuCost[]): string {
  const stack = costs.filter((c) => c.name !== 'load generator');
  const total = stack.reduce((t, c) => t + c.msPer1000, 0);
  return (
    `  CPU ms per 1,000 ${what}: ` +
    costs.map((c) => `${c.name} ${c.msPer1000.toFixed(0)}`).join(', ') +
    ` (stack total ${total.toFixed(0)})`
  );
}
