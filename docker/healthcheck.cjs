'use strict';
/**
 * Container health check (`HEALTHCHECK CMD node /app/docker/healthcheck.cjs`): GET the running
 * service's /ready on its health port and exit 0 only on 200. The service is the one the
 * entrypoint was started with (argument, read from PID 1's command line, else $SERVICE); an
 * explicit argument overrides both. Slim images have no curl or wget, hence node.
 */
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { SERVICES, argumentOf, choose, readyUrl } = require('./services.cjs');

const TIMEOUT_MS = 2500;

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

function pid1Argument() {
  try {
    return argumentOf(readFileSync('/proc/1/cmdline', 'utf8'));
  } catch {
    return undefined;
  }
}

const chosen = choose(process.argv[2] || pid1Argument(), process.env);
if (chosen.error) fail(chosen.error);
if (!SERVICES[chosen.name]) {
  // A one-off command has no health endpoint: it is healthy while it runs.
  process.exit(0);
}
const url = readyUrl(chosen.name, process.env);
const req = http.get(url, { timeout: TIMEOUT_MS }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  fail(`${url} answered ${res.statusCode}`);
});
req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
req.on('error', (err) => fail(`${url}: ${err.message}`));
