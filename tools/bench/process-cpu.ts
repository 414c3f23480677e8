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

/** Sums, per process, the CPU spent inside the spans measured between `start` and `stop`. */
export class CpuMeter {
  private readonly used = new Map<string, number>();
  private startedAt: number[] = [];

  constructor(private readonly processes: readonly ProcessCpu[]) {}

  start(): void {
    this.startedAt = this.processes.map((p) => cpuMicros(p.pid));
  }

  stop(): void {
    this.processes.forEach((p, i) => {
      const spent = cpuMicros(p.pid) - this.startedAt[i]!;
      this.used.set(p.name, (this.used.get(p.name) ?? 0) + spent);
    });
  }

  /** `name µs …` per operation over everything measured so far. */
  perOperation(operations: number): string {
    const parts = this.processes.map((p) => {
      const us = (this.used.get(p.name) ?? 0) / operations;
      return `${p.name} ${us.toFixed(0)}`;
    });
    const total = [...this.used.values()].reduce((t, us) => t + us, 0) / operations;
    return `CPU µs per op: ${parts.join(', ')} (total ${total.toFixed(0)})`;
  }
}
