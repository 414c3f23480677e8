import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, startScriptChild } from '../processes';
import { waitFor } from '../wait-for';
import { spawnWatched } from '@cb/ops';

/**
 * Starts three watched `sleep 30`s, detached: `now`, `later` (1.5 s TERM delay) and `after` (up to
 * 5 s TERM delay while `now` runs, from an outlive file); prints their pids.
 */
const PARENT = `
const { writeFileSync } = require('node:fs');
const { spawnWatched } = require(${JSON.stringify(join(__dirname, '../../../ops/src/local/watchdog.ts'))});
(async () => {
  const file = process.argv[1];
  const now = await spawnWatched('sleep', ['30'], { detached: true });
  writeFileSync(file, now.pid + '\\n');
  const later = await spawnWatched('sleep', ['30'], { detached: true, termDelayMs: 1500 });
  const after = await spawnWatched('sleep', ['30'], {
    detached: true,
    termDelayMs: 5000,
    outliveFile: file,
  });
  process.stdout.write(JSON.stringify({ now: now.pid, later: later.pid, after: after.pid }) + '\\n');
  setInterval(() => undefined, 1000);
})();
`;

describe('spawnWatched', () => {
  it('runs the command with the given env and cwd, and reports its exit code', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cb-watchdog-')));
    try {
      const proc = await spawnWatched('/bin/sh', ['-c', 'echo "$CB_X:$HOME:$(pwd)"; exit 3'], {
        env: { CB_X: 'hello', PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        cwd: dir,
      });
      expect(await proc.waitExit(5000)).toBe(true);
      expect(proc.output()).toBe(`hello::${dir}\n`);
      expect(proc.exitCode).toBe(3);
      expect(proc.signal).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps output written before the pid is known and reports it line by line', async () => {
    const lines: string[] = [];
    const proc = await spawnWatched('/bin/sh', ['-c', 'echo one; echo two >&2; printf three'], {
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
    });
    expect(await proc.waitExit(5000)).toBe(true);
    expect(proc.exitCode).toBe(0);
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
    expect(proc.output()).toContain('one\n');
  });

  it('reports a signal death as exitCode null with the signal', async () => {
    const proc = await spawnWatched('sleep', ['30']);
    proc.kill('SIGTERM');
    expect(await proc.waitExit(5000)).toBe(true);
    expect(proc.exitCode).toBeNull();
    expect(proc.signal).toBe('SIGTERM');
  });

  it('keeps only the last outputLimit characters', async () => {
    const proc = await spawnWatched(
      '/bin/sh',
      ['-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done'],
      {
        outputLimit: 100,
      },
    );
    expect(await proc.waitExit(5000)).toBe(true);
    const output = proc.output();
    expect(output.length).toBe(100);
    expect(output.endsWith('line 199\n')).toBe(true);
  });

  it('still accepts the orphan dir as third argument', async () => {
    const proc = await spawnWatched('true', [], null);
    expect(await proc.waitExit(5000)).toBe(true);
    expect(proc.exitCode).toBe(0);
  });

  it('runs a detached command in a process group of its own', async () => {
    const groupOf = (pid: number): number =>
      Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    const attached = await spawnWatched('sleep', ['30']);
    const detached = await spawnWatched('sleep', ['30'], { detached: true });
    try {
      expect(groupOf(attached.pid)).toBe(groupOf(process.pid));
      expect(groupOf(detached.pid)).not.toBe(groupOf(process.pid));
    } finally {
      for (const proc of [attached, detached]) {
        proc.kill('SIGKILL');
        expect(await proc.waitExit(5000)).toBe(true);
      }
    }
  });

  it('kills detached commands when the parent is SIGKILLed: termDelayMs later, or once the outlive file’s pids are gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-watchdog-'));
    try {
      const { child, started, exited } = startScriptChild<
        Record<'now' | 'later' | 'after', number>
      >(PARENT, join(dir, 'pids'));
      const pids = await started;
      expect(Object.values(pids).map(isAlive)).toEqual([true, true, true]);
      const t0 = Date.now();
      child.kill('SIGKILL');
      await exited;
      const gone: Record<string, number> = {};
      await waitFor(
        () => {
          for (const [name, pid] of Object.entries(pids)) {
            if (gone[name] === undefined && !isAlive(pid)) gone[name] = Date.now() - t0;
          }
          return Object.keys(gone).length === 3;
        },
        { timeoutMs: 8000, intervalMs: 20, description: 'every command to exit' },
      );
      expect(gone.now).toBeLessThan(1500);
      expect(gone.later).toBeGreaterThanOrEqual(1500);
      expect(gone.after).toBeGreaterThanOrEqual(gone.now!);
      expect(gone.after).toBeLessThan(1500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
