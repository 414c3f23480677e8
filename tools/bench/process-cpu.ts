import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * One process of the stack under measurement. Its CPU time is read from /proc/<pid>/stat from
 * outside, so a benchmark can say what each process spends per operation: on a machine shared
 * with other work that is steadier than any rate. Linux only: elsewhere readings are NaN.
 */
export interface NamedProcess {
  name: string;
  pid: number;
}
export type ProcessCpu = NamedProcess;

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

/**
 * Read and write system calls made so far by `pid` (/proc/<pid>/io: syscr, syscw); NaN when
 * they cannot be read. On loopback each socket write also wakes the reader: fewer per operation
 * is less CPU on both sides.
 */
export function syscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string): number =>
      Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}

interface Reading {
  cpuUs: number;
  writes: number;
}

function read(pid: number): Reading {
  return { cpuUs: cpuMsOf(pid) * 1000, writes: syscalls(pid).writes };
}

/**
 * Sums, per process, the CPU and the write system calls spent inside the spans measured between
 * `start` and `stop`.
 */
export class CpuMeter {
  private readonly used = new Map<string, Reading>();
  private startedAt: Reading[] = [];

  constructor(private readonly processes: readonly NamedProcess[]) {}

  start(): void {
    this.startedAt = this.processes.map((p) => read(p.pid));
  }

  stop(): void {
    this.processes.forEach((p, i) => {
      const now = read(p.pid);
      const before = this.startedAt[i]!;
      const sum = this.used.get(p.name) ?? { cpuUs: 0, writes: 0 };
      this.used.set(p.name, {
        cpuUs: sum.cpuUs + now.cpuUs - before.cpuUs,
        writes: sum.writes + now.writes - before.writes,
      });
    });
  }

  /** `name µs …` and `name writes …` per operation over everything measured so far. */
  perOperation(operations: number): string {
    const each = (f: (r: Reading) => number, digits: number): string => {
      const parts = this.processes.map((p) => {
        const r = this.used.get(p.name) ?? { cpuUs: 0, writes: 0 };
        return `${p.name} ${(f(r) / operations).toFixed(digits)}`;
      });
      const total = [...this.used.values()].reduce((t, r) => t + f(r), 0) / operations;
      return `${parts.join(', ')} (total ${total.toFixed(digits)})`;
    };
    return (
      `CPU µs per op: ${each((r) => r.cpuUs, 0)}\n` +
      `  write syscalls per op: ${each((r) => r.writes, 2)}`
    );
  }
}
