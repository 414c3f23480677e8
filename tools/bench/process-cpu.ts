import { readFileSync } from 'node:fs';

/**
 * CPU time of other processes, read from /proc/<pid>/stat (utime + stime, in clock ticks), so a
 * benchmark can say what each process of the stack spends per operation. On a machine shared
 * with other work, CPU per operation is steadier than any rate. Linux only: elsewhere every
 * reading is NaN and the figures print as such.
 */
export interface ProcessCpu {
  readonly name: string;
  readonly pid: number;
}

/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second on every architecture. */
const TICK_US = 10_000;

/** CPU time used so far by `pid`, in microseconds; NaN when it cannot be read. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may hold spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return NaN;
  }
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
  return { cpuUs: cpuMicros(pid), writes: syscalls(pid).writes };
}

/**
 * Sums, per process, the CPU and the write system calls spent inside the spans measured between
 * `start` and `stop`.
 */
export class CpuMeter {
  private readonly used = new Map<string, Reading>();
  private startedAt: Reading[] = [];

  constructor(private readonly processes: readonly ProcessCpu[]) {}

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
