/** Failed operations by kind, so a run with errors says what they were (and is marked invalid). */
export class Errors {
  private readonly kinds = new Map<string, number>();
  total = 0;

  add(kind: string): false {
    this.total++;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    return false;
  }

  /** `op`, with whatever it throws counted here as a failed operation. */
  guard<A extends unknown[]>(
    op: (...args: A) => Promise<boolean>,
  ): (...args: A) => Promise<boolean> {
    return (...args) => op(...args).catch((err: unknown) => this.add(String(err)));
  }

  /** Prints the errors by kind, most frequent first; any error makes the run exit non-zero. */
  print(label: string): void {
    if (this.total === 0) return;
    console.log(`  INVALID: ${this.total} ${label} errors`);
    for (const [kind, n] of [...this.kinds].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      console.log(`    ${String(n).padStart(7)} × ${kind}`);
    }
    process.exitCode = 1;
  }
}
