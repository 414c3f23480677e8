import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnWatched } from './watchdog';

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
});
