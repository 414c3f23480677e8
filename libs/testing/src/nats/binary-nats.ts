import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type WatchedProcess } from '@cb/ops';
import { onProcessExit } from './exit-cleanup';
import { PortInUseError, launchNats, terminateNats } from './nats-process';
import type { StartTestNatsOptions, StopTestNatsOptions, TestNats } from './test-nats';

const HOST = '127.0.0.1';
const PORT_ATTEMPTS = 5;

interface ServerSpec {
  readonly binary: string;
  readonly port: number;
  readonly name: string;
  readonly storeDir: string | null;
  readonly configFile?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
}

/** Start the local nats-server binary on a free port, with a fresh store dir for JetStream. */
export async function startBinaryNats(
  binary: string,
  jetstream: boolean,
  options: Pick<StartTestNatsOptions, 'configFile' | 'env'> = {},
): Promise<TestNats> {
  const name = `cb_test_${randomBytes(4).toString('hex')}`;
  const storeDir = jetstream ? mkdtempSync(join(tmpdir(), 'cb-nats-')) : null;
  const unregister = onProcessExit(() => {
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });
  try {
    for (let attempt = 1; ; attempt++) {
      const spec: ServerSpec = {
        binary,
        port: await freePort(),
        name,
        storeDir,
        configFile: options.configFile,
        env: options.env,
      };
      try {
        const proc = await launch(spec);
        unregister();
        return new BinaryNats(spec, proc);
      } catch (err) {
        // Someone took the port between freePort() and the bind: try another one.
        if (!(err instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    unregister();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
}

class BinaryNats implements TestNats {
  readonly source = 'binary' as const;
  readonly url: string;
  readonly port: number;
  readonly storeDir: string | null;
  private proc: WatchedProcess | null;
  private disposed = false;
  private readonly unregister: () => void;

  constructor(
    private readonly spec: ServerSpec,
    proc: WatchedProcess,
  ) {
    this.url = `nats://${HOST}:${spec.port}`;
    this.port = spec.port;
    this.storeDir = spec.storeDir;
    this.proc = proc;
    // Synchronous last resort when the process exits without dispose(): kill, remove.
    this.unregister = onProcessExit(() => {
      if (this.proc?.running) this.proc.kill('SIGKILL');
      if (this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
    });
  }

  output(): string {
    return this.proc?.output() ?? '';
  }

  get pid(): number | null {
    return this.proc?.running ? this.proc.pid : null;
  }

  async stop(options: StopTestNatsOptions = {}): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    await terminateNats(proc, options.signal ?? 'SIGTERM');
  }

  async restart(): Promise<void> {
    if (this.disposed) throw new Error(`test nats-server on port ${this.port} was disposed`);
    await this.stop();
    const proc = await launch(this.spec);
    if (this.disposed) {
      await terminateNats(proc, 'SIGKILL');
      throw new Error(`test nats-server on port ${this.port} was disposed during restart`);
    }
    this.proc = proc;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.stop({ signal: 'SIGKILL' });
    } finally {
      if (this.storeDir) await rm(this.storeDir, { recursive: true, force: true, maxRetries: 3 });
      this.unregister();
    }
  }
}

/** nats-server with the spec's port, name and store. */
function launch(spec: ServerSpec): Promise<WatchedProcess> {
  // Flags after `-c` override the file's listen address, name and store.
  const args = spec.configFile !== undefined ? ['-c', spec.configFile] : [];
  args.push('-a', HOST, '-p', String(spec.port), '-n', spec.name);
  if (spec.storeDir) args.push('-js', '-sd', spec.storeDir);
  return launchNats({
    binary: spec.binary,
    args,
    ...(spec.env !== undefined ? { env: { ...process.env, ...spec.env } } : {}),
    host: HOST,
    port: spec.port,
    name: spec.name,
    orphanDir: spec.storeDir,
    jetstream: spec.storeDir !== null,
  });
}
