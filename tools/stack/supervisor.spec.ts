import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, waitFor } from '@cb/testing';
import { Supervised, type ChildSpec } from './supervisor';

/** A supervised `sh -c script`, ready at once; its launcher lines are collected. */
function supervised(script: string): { s: Supervised; lines: string[] } {
  const lines: string[] = [];
  const spec: ChildSpec = {
    name: 'child',
    command: '/bin/sh',
    args: ['-c', script],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    readyAt: 'nowhere',
    ready: async () => undefined,
  };
  return { s: new Supervised(spec, (name, line) => lines.push(`${name} ${line}`)), lines };
}

describe('Supervised', () => {
  it('fails the start when the child exits before it is ready', async () => {
    const { s } = supervised('exit 2');
    const spec = { ...s.spec, ready: () => new Promise<void>(() => undefined) };
    const never = new Supervised(spec, () => undefined);
    await expect(never.start()).rejects.toThrow('child exited (code 2) before it was ready');
  });

  it('restarts a child that dies once ready, 0.5 s then 1 s later, and stop() ends it all', async () => {
    const { s, lines } = supervised('sleep 0.2; exit 3');
    await s.start();
    const first = s.pid!;
    await waitFor(() => lines.filter((l) => / started /.test(l)).length >= 3, {
      timeoutMs: 5000,
      description: 'two restarts',
    });
    const restarts = lines.filter((l) => /restarting child in/.test(l));
    expect(restarts.slice(0, 2)).toEqual([
      'launcher restarting child in 0.5 s',
      'launcher restarting child in 1.0 s',
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^launcher child \\(pid ${first}\\) exited unexpectedly \\(code 3\\) after \\d+\\.\\d s$`,
        ),
      ),
    );
    await s.stop(1000);
    const count = lines.length;
    await sleep(2500);
    expect(lines.slice(count).filter((l) => / started /.test(l))).toEqual([]);
    // Two restarts, a stop and 2.5 s of quiet take 4.6 s on an idle machine: Jest's default 5 s
    // failed under the parallel full run.
  }, 20_000);

  it('stops a running child with its stop signal, once, and never restarts it', async () => {
    const { s, lines } = supervised('');
    // Exits 0 on SIGINT only: a SIGTERM would kill it by that signal.
    const spec: ChildSpec = {
      ...s.spec,
      command: process.execPath,
      args: [
        '-e',
        "process.on('SIGINT', () => process.exit(0)); console.log('armed'); setInterval(() => {}, 1000);",
      ],
      stopSignal: 'SIGINT',
      // The watchdog's background job starts it with SIGINT ignored until it sets a handler.
      ready: async () => {
        await waitFor(() => lines.includes('child armed'), { description: 'armed' });
      },
    };
    const child = new Supervised(spec, (name, line) => lines.push(`${name} ${line}`));
    await child.start();
    const pid = child.pid!;
    await Promise.all([child.stop(2000), child.stop(2000)]);
    expect(isAlive(pid)).toBe(false);
    expect(lines.filter((l) => /stopping child/.test(l))).toEqual(['launcher stopping child…']);
    expect(lines).toContainEqual(
      expect.stringMatching(/^launcher child stopped \(code 0, \d+ ms\)$/),
    );
    await sleep(700);
    expect(lines.filter((l) => / started /.test(l))).toHaveLength(1);
  });
});
