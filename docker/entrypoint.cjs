'use strict';
/**
 * Container entrypoint: `node docker/entrypoint.cjs <service>` (or SERVICE=<service>) loads one
 * bundle from dist/apps into this very process, so node itself is PID 1 and receives SIGTERM.
 * Services: command-service, projection-service, automation-service, query-gateway (aliases
 * command, projection, automation, gateway); one-off command: projections-rebuild.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { SERVICES, COMMANDS, choose } = require('./services.cjs');

const DIST = join(__dirname, '..', 'dist', 'apps');

const chosen = choose(process.argv[2], process.env);
if (chosen.error) {
  process.stderr.write(`entrypoint: ${chosen.error}\n`);
  process.exit(64);
}
const bundle = join(DIST, (SERVICES[chosen.name] ?? COMMANDS[chosen.name]).bundle);
if (!existsSync(bundle)) {
  process.stderr.write(`entrypoint: ${bundle} is missing: run \`npm run build\` first\n`);
  process.exit(66);
}

// As PID 1 a signal without a handler is ignored by the kernel, and the services install theirs
// only once they are connected. Until then, exit on SIGTERM/SIGINT as any other process would;
// afterwards the service's own handler shuts it down gracefully.
for (const [signal, number] of [
  ['SIGTERM', 15],
  ['SIGINT', 2],
]) {
  process.on(signal, () => {
    if (process.listenerCount(signal) > 1) return;
    process.exit(128 + number);
  });
}

process.setSourceMapsEnabled(true);
process.argv = [process.argv[0], bundle, ...process.argv.slice(3)];
require(bundle);
