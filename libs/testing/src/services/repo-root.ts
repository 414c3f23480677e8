import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The nearest directory at or above `start` that holds nx.json, or null. */
export function findRepoRoot(start: string): string | null {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** Absolute path of the repository root (the directory holding nx.json). */
export const REPO_ROOT: string =
  findRepoRoot(__dirname) ?? findRepoRoot(process.cwd()) ?? resolve(__dirname, '../../../..');
