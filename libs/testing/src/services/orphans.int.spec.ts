import { isAlive, startScriptChild } from '../processes';
import { join } from 'node:path';
import { waitFor } from '../wait-for';

/*
 * A Jest worker can die without running afterAll: SIGKILLed (the watchdog stops the service) or
 * exiting early (the exit hook kills it). Simulate both in a child Node process that starts a
 * nats-server and a command-service the way a test does.
 */
const CHILD = `
const { startBinaryNats } = require(${JSON.stringify(join(__dirname, '../nats/binary-nats.ts'))});
const { findNatsServerBinary } = require(${JSON.stringify(join(__dirname, '../../../ops/src/local/find-binary.ts'))});
const { startService } = require(${JSON.stringify(join(__dirname, 'service-process.ts'))});
(async () => {
  const nats = await startBinaryNats(findNatsServerBinary(), true);
  const service = await startService('command-service', {
    env: { NATS_URL: nats.url, CB_PREFIX: 'orphan', CB_STREAM: 'ORPHAN_EVENTS', COMMAND_HTTP_PORT: '0' },
    readyLine: /command service ready/,
  });
  process.stdout.write(JSON.stringify({ natsPid: nats.pid, servicePid: service.pid }) + '\\n');
  if (process.argv[1] === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
})().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
`;

interface Started {
  readonly natsPid: number;
  readonly servicePid: number;
}

function startChild(mode: 'hang' | 'exit') {
  return startScriptChild<Started>(CHILD, mode);
}

describe('service orphan protection', () => {
  it('stops the service when the test process is SIGKILLed', async () => {
    const { child, started, exited } = startChild('hang');
    const { natsPid, servicePid } = await started;
    expect(isAlive(servicePid)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    // The watchdog sends SIGTERM (graceful shutdown) and SIGKILL after 10 s.
    await waitFor(() => !isAlive(servicePid) && !isAlive(natsPid), {
      timeoutMs: 15_000,
      description: `command-service ${servicePid} and nats-server ${natsPid} to die`,
    });
  }, 60_000);

  it('kills the service when the test process exits without stopping it', async () => {
    const { started, exited } = startChild('exit');
    const { natsPid, servicePid } = await started;
    await exited;
    await waitFor(() => !isAlive(servicePid) && !isAlive(natsPid), {
      timeoutMs: 3000,
      description: `command-service ${servicePid} and nats-server ${natsPid} to die`,
    });
  }, 60_000);
});
