/**
 * Builds the console (`npm run console:build`, into apps/console/dist) when its build is missing
 * or older than any of its sources (apps/console/src, index.html, the Vite config), so that
 * `npm install && npm start` serves it (issue 16). Run by `npm install` (the root `prepare`
 * script), by `npm start` (tools/stack/start.ts) and by the console's browser tests.
 *
 * Exits 0 when the build is up to date or was made; 0 with a note when there is nothing to build
 * with (no console sources in this checkout, or an install without devDependencies, which has
 * no Vite); 1 when the build fails, saying so: the gateway then answers 503 at /console.
 *
 * `--check` only reports (exit 0 up to date, 3 stale or missing), building nothing.
 */
/* global process, console */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = join(ROOT, 'apps', 'console');
const BUILT = join(APP, 'dist', 'index.html');
/** Held while building: launchers and test files started at once build once, one at a time. */
const LOCK = join(APP, '.build-lock');
/** A lock older than this was left by a build that died: taken over. */
const STALE_LOCK_MS = 5 * 60_000;
const SOURCES = [join(APP, 'src'), join(APP, 'index.html'), join(APP, 'vite.config.mts')];

/** Newest modification time (ms) of `path`, or of any file under it; 0 when absent. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** 'missing', 'stale' or 'fresh'. */
export function consoleBuildState() {
  if (!existsSync(BUILT)) return 'missing';
  const built = statSync(BUILT).mtimeMs;
  return SOURCES.some((source) => newest(source) > built) ? 'stale' : 'fresh';
}

/** Waits (synchronously: nothing else runs meanwhile) until the lock is ours. */
function lock() {
  for (;;) {
    try {
      mkdirSync(LOCK);
      const unlock = () => rmSync(LOCK, { recursive: true, force: true });
      // Ctrl-C reaches the build too; once it has stopped, the lock goes with this process.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
        process.once(signal, () => {
          unlock();
          process.exit(130);
        });
      }
      return unlock;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(LOCK).mtimeMs;
    } catch {
      continue;
    }
    if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

function main() {
  const say = (line) => console.log(`console: ${line}`);
  if (!existsSync(join(APP, 'index.html')) || !existsSync(join(APP, 'vite.config.mts'))) {
    say('no console sources in apps/console: nothing to build');
    return 0;
  }
  const state = consoleBuildState();
  if (process.argv.includes('--check')) {
    say(`build ${state}`);
    return state === 'fresh' ? 0 : 3;
  }
  if (state === 'fresh') {
    say('build up to date (apps/console/dist)');
    return 0;
  }
  if (!existsSync(join(ROOT, 'node_modules', 'vite', 'package.json'))) {
    say(
      'not built: Vite is not installed (an install without devDependencies?); run `npm install` then `npm run console:build`',
    );
    return 0;
  }
  const unlock = lock();
  try {
    return build();
  } finally {
    unlock();
  }
}

function build() {
  const say = (line) => console.log(`console: ${line}`);
  // Another process may have built it while this one waited for the lock.
  const state = consoleBuildState();
  if (state === 'fresh') {
    say('build up to date (apps/console/dist)');
    return 0;
  }
  say(state === 'missing' ? 'building (no build yet)…' : 'building (sources changed)…');
  const npm = process.env.npm_execpath;
  const run = npm
    ? spawnSync(process.execPath, [npm, 'run', 'console:build'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'console:build'], {
        cwd: ROOT,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (run.status !== 0 || !existsSync(BUILT)) {
    console.error(
      `console: the build failed (npm run console:build ${run.error ? `could not run: ${run.error.message}` : `exited ${run.status ?? run.signal}`}); the gateway answers 503 at /console until it is built`,
    );
    return 1;
  }
  say('built into apps/console/dist');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
