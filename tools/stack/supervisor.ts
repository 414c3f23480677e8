import { restartDelay } from './backoff';
import { describeExit, spawnChild, type Child, type Exit, type LineSink } from './children';

export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /**
   * If the launcher dies (even by SIGKILL), its watchdog SIGTERMs it this much later (default 0),
   * so what needs it stops first.
   */
  readonly orphanTermDelayMs?: number;
  /** With `orphanTermDelayMs`: a file of pids; that wait ends once none of them runs. */
  readonly outliveFile?: string;
  /** What asks it to stop gracefully (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals;
  /** Where its readiness is checked, for the log (a URL, or host:port). */
  readonly readyAt: string;
  /** Resolves once this process of it is ready; rejects when it cannot be. */
  readonly ready: (child: Child) => Promise<void>;
}

/**
 * One child of the launcher, kept running. A child that dies before it was ever ready fails the
 * start-up (`start()` rejects: a bad configuration does not heal by itself). Once it has been
 * ready, a death that `stop()` did not ask for is logged and followed by a restart after
 * `restartDelay` (0.5 s doubling to 30 s, reset after a minute up); the other children are not
 * touched.
 */
export class Supervised {
  private child: Child | undefined;
  private spawning: Promise<Child | undefined> | undefined;
  private wasReady = false;
  private stopping = false;
  private delay: number | undefined;
  private cancelWait: (() => void) | undefined;

  /** `changed` is called whenever its process starts or exits. */
  constructor(
    readonly spec: ChildSpec,
    private readonly sink: LineSink,
    private readonly changed: () => void = () => undefined,
  ) {}

  /** The pid of its process while that runs. */
  get pid(): number | undefined {
    return this.child?.running ? this.child.pid : undefined;
  }

  /** Start it and wait until it is ready. */
  async start(): Promise<void> {
    const child = await this.spawn();
    if (!child) throw new Error(`${this.spec.name} could not be started`);
    await this.whenReady(child);
    this.wasReady = true;
  }

  /** Stop it (once: later calls return at once) and never restart it. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.cancelWait?.();
    await this.spawning;
    const child = this.child;
    if (!child?.running) return;
    this.log(`stopping ${this.spec.name}…`);
    const t0 = performance.now();
    const exit = await child.stop(graceMs, this.spec.stopSignal);
    this.log(
      `${this.spec.name} stopped (${describeExit(exit)}, ${Math.round(performance.now() - t0)} ms)`,
    );
  }

  /** Kill it now (a forced stop), and never restart it. */
  kill(): void {
    this.stopping = true;
    this.cancelWait?.();
    this.child?.kill('SIGKILL');
  }

  /** Spawn a process of it; `this.child` is set before the promise settles. */
  private spawn(): Promise<Child | undefined> {
    const { name, command, args, env } = this.spec;
    const spawning = spawnChild(name, command, args, env, this.sink, this.spec).then(
      (child) => {
        this.child = child;
        this.log(`${name} started (pid ${child.pid})`);
        this.changed();
        void child.exited.then((exit) => {
          this.changed();
          this.exited(child, exit);
        });
        return child;
      },
      (err: Error) => {
        this.log(`${name} could not be started: ${err.message}`);
        return undefined;
      },
    );
    this.spawning = spawning;
    return spawning;
  }

  private exited(child: Child, exit: Exit): void {
    if (this.stopping || !this.wasReady) return;
    const uptime = performance.now() - child.startedAt;
    this.log(
      `${this.spec.name} (pid ${child.pid}) exited unexpectedly (${describeExit(exit)}) after ${seconds(uptime)}`,
    );
    void this.restart(uptime);
  }

  private async restart(uptimeMs: number): Promise<void> {
    this.delay = restartDelay(this.delay, uptimeMs);
    this.log(`restarting ${this.spec.name} in ${seconds(this.delay)}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.delay);
      this.cancelWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cancelWait = undefined;
    if (this.stopping) return;
    const child = await this.spawn();
    if (this.stopping) {
      // stop() waited for this spawn and stops it.
      return;
    }
    if (!child) {
      void this.restart(0);
      return;
    }
    this.whenReady(child).then(
      () => this.log(`${this.spec.name} is ready again (pid ${child.pid}, ${this.spec.readyAt})`),
      (err: Error) => {
        if (!this.stopping) this.log(`${this.spec.name} (pid ${child.pid}): ${err.message}`);
      },
    );
  }

  /** Ready, or an error once it has exited first or cannot be ready. */
  private whenReady(child: Child): Promise<void> {
    return Promise.race([
      this.spec.ready(child),
      child.exited.then((exit) => {
        throw new Error(`${this.spec.name} exited (${describeExit(exit)}) before it was ready`);
      }),
    ]);
  }

  private log(line: string): void {
    this.sink('launcher', line);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
