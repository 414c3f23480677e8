'use strict';
/**
 * What the image can run, shared by entrypoint.cjs and healthcheck.cjs. The health port variables
 * and their defaults are those of apps/<service>/src/config.ts (compose.spec.ts checks they match).
 */

/** Long-running services: bundle under dist/apps, and where /ready answers. */
const SERVICES = {
  'command-service': {
    bundle: 'command-service/main.js',
    portVar: 'COMMAND_HTTP_PORT',
    hostVar: 'COMMAND_HTTP_HOST',
    defaultPort: 9101,
  },
  'projection-service': {
    bundle: 'projection-service/main.js',
    portVar: 'PROJECTION_HTTP_PORT',
    hostVar: 'PROJECTION_HTTP_HOST',
    defaultPort: 9102,
  },
  'automation-service': {
    bundle: 'automation-service/main.js',
    portVar: 'AUTOMATION_HTTP_PORT',
    hostVar: 'AUTOMATION_HTTP_HOST',
    defaultPort: 9104,
  },
  'query-gateway': {
    bundle: 'query-gateway/main.js',
    portVar: 'GATEWAY_PORT',
    hostVar: 'GATEWAY_HOST',
    defaultPort: 3000,
  },
};

/** One-off commands (`docker compose run --rm projection projections-rebuild`). */
const COMMANDS = {
  'projections-rebuild': { bundle: 'projection-service/rebuild-main.js' },
};

const ALIASES = {
  command: 'command-service',
  projection: 'projection-service',
  automation: 'automation-service',
  gateway: 'query-gateway',
};

const NAMES = [...Object.keys(SERVICES), ...Object.keys(COMMANDS)];

/** Canonical name of a service or command, or undefined when unknown. */
function canonical(name) {
  const n = ALIASES[name] ?? name;
  return NAMES.includes(n) ? n : undefined;
}

/**
 * Which service to run: the first argument after the entrypoint, else $SERVICE.
 * Returns { name } or { error }.
 */
function choose(arg, env) {
  const requested = arg || env.SERVICE || '';
  if (!requested) {
    return { error: `no service given: pass one of ${NAMES.join(', ')} (or set SERVICE)` };
  }
  const name = canonical(requested);
  if (!name) {
    return { error: `unknown service "${requested}": expected one of ${NAMES.join(', ')}` };
  }
  return { name };
}

/**
 * The argument the container's entrypoint got, read from PID 1's command line (NUL-separated),
 * so the health check knows the service when it was chosen by argument rather than by $SERVICE.
 * Works with or without an init process in front (`docker run --init`).
 */
function argumentOf(cmdline) {
  const args = cmdline.split('\0').filter((a) => a !== '');
  const at = args.findIndex((a) => a.endsWith('entrypoint.cjs'));
  return at >= 0 ? args[at + 1] : undefined;
}

/** The /ready URL of a service, from the same environment the service reads. */
function readyUrl(name, env) {
  const service = SERVICES[name];
  const port = (env[service.portVar] || '').trim() || String(service.defaultPort);
  const configured = (env[service.hostVar] || '').trim();
  const host =
    !configured || configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/ready`;
}

module.exports = { SERVICES, COMMANDS, ALIASES, NAMES, canonical, choose, argumentOf, readyUrl };
