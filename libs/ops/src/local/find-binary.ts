import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';

/** Where package managers put nats-server when it is not on PATH (Debian: /usr/sbin). */
const FALLBACK_DIRS = ['/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

/** Absolute path of an executable `nats-server`: PATH first, then the usual places; or null. */
export function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env['PATH'] ?? '').split(delimiter).filter(Boolean), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = resolve(dir, 'nats-server');
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
