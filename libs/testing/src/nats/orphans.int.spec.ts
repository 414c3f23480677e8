import { isAlive, startScriptChild } from '../processes';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../wait-for';

/*
 * A test process can die without running afterAll: SIGKILLed (the watchdog cleans up) or
 * exiting early (the exit hook cleans up). Simulate both in a child Node process.
 */
const CHILD = `
const { startBinaryNats } = require(${JSON.stringify(join(__dirname, 'binary-nats.ts'))});
const { findNatsServerBinary } = require(${JSON.stringify(join(__dirname, '../../../ops/src/local/find-binary.ts'))});
startBinaryNats(findNatsServerBinary(), true).then((nats) => {
  process.stdout.write(JSON.stringify({ pid: nats.pid, storeDir: nats.storeDir }) + '\\n');
  if (process.argv[1] === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
});
`;

interface Started {
  readonly pid: number;
  readonly storeDir: string;
}

function startChild(mode: 'hang' | 'exit') {
  return startScriptChild<Started>(CHILD, mode);
}

describe('orphan protection', () => {
  it('kills nats-server and removes its store dir when the test process is SIGKILLed', async () => {
    const { child, started, exited } = startChild('hang');
    const { pid, storeDir } = await started;
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(storeDir)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    await waitFor(() => !isAlive(pid) && !existsSync(storeDir), {
      timeoutMs: 5000,
      description: `nats-server ${pid} to die and ${storeDir} to go`,
    });
  }, 20_000);

  it('kills nats-server and removes its store dir when the process exits without dispose', async () => {
    const { started, exited } = startChild('exit');
    const { pid, storeDir } = await started;
    await exited;
    await waitFor(() => !isAlive(pid) && !existsSync(storeDir), {
      timeoutMs: 2000,
      description: `nats-server ${pid} to die and ${storeDir} to go`,
    });
  }, 20_000);
});
