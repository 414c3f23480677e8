import { startService, type ServiceName, type ServiceProcess } from '@cb/testing';

/*
 * Each service started alone (`node --import tsx apps/<service>/src/main.ts`) with one bad
 * environment value exits non-zero within a few seconds, with a message naming the variable and
 * what it expects. NATS_URL otherwise points at a closed port, so a value that is wrongly accepted
 * can never reach a real server (and would fail with a different message and exit code).
 */

const EXIT_WITHIN_MS = 10_000;
const UNREACHABLE_NATS = 'nats://127.0.0.1:1';

interface Case {
  service: ServiceName;
  env: Record<string, string>;
  /** The variable the message must name. */
  variable: string;
  /** What the message must say the variable expects. */
  expects: RegExp;
}

const cases: Case[] = [
  {
    service: 'command-service',
    env: { NATS_URL: 'ftp://x' },
    variable: 'NATS_URL',
    expects: /NATS_URL="ftp:\/\/x" is invalid: expected comma-separated NATS URLs/,
  },
  {
    service: 'command-service',
    env: { COMMAND_CONCURRENCY: '-1' },
    variable: 'COMMAND_CONCURRENCY',
    expects: /COMMAND_CONCURRENCY="-1" is invalid: expected .*\(1 to 10000\)/,
  },
  {
    service: 'command-service',
    env: { COMMAND_HTTP_PORT: '70000' },
    variable: 'COMMAND_HTTP_PORT',
    expects: /COMMAND_HTTP_PORT="70000" is invalid: expected port .*0 = any free port/,
  },
  {
    service: 'projection-service',
    env: { PROJECTION_BATCH_SIZE: 'abc' },
    variable: 'PROJECTION_BATCH_SIZE',
    expects: /PROJECTION_BATCH_SIZE="abc" is invalid: expected .*\(1 to 5000\)/,
  },
  {
    service: 'projection-service',
    env: { PROJECTION_LEASE_TTL_MS: '10000', PROJECTION_ACK_WAIT_MS: '5000' },
    variable: 'PROJECTION_ACK_WAIT_MS',
    expects:
      /PROJECTION_ACK_WAIT_MS=5000 is invalid: with PROJECTION_LEASE_TTL_MS=10000 it may be at most 3750/,
  },
  {
    service: 'projection-service',
    env: { CB_PARTITIONS: '0' },
    variable: 'CB_PARTITIONS',
    expects: /CB_PARTITIONS="0" is invalid: expected an integer from 1 to 1024/,
  },
  {
    service: 'query-gateway',
    env: { GATEWAY_PORT: '70000' },
    variable: 'GATEWAY_PORT',
    expects: /GATEWAY_PORT="70000" is invalid: expected HTTP port \(0 to 65535\)/,
  },
  {
    service: 'query-gateway',
    env: { SSE_MAX_CONNECTIONS: '0' },
    variable: 'SSE_MAX_CONNECTIONS',
    expects: /SSE_MAX_CONNECTIONS="0" is invalid: expected .*\(1 to 100000\)/,
  },
  {
    service: 'query-gateway',
    env: { LOG_LEVEL: 'verbose' },
    variable: 'LOG_LEVEL',
    expects: /LOG_LEVEL="verbose" is invalid: expected one of fatal, error, warn, info/,
  },
  {
    service: 'query-gateway',
    env: { NATS_USER: 'ann' },
    variable: 'NATS_PASSWORD',
    expects: /NATS_USER and NATS_PASSWORD must be set together/,
  },
];

/** The configuration issues of the service's fatal log line (pino JSON). */
function fatalIssues(output: string): string[] {
  for (const line of output.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number | string; issues?: string[] };
      if ((entry.level === 60 || entry.level === 'fatal') && Array.isArray(entry.issues)) {
        return entry.issues;
      }
    } catch {
      // not a JSON line
    }
  }
  return [];
}

describe('a service started with a bad environment value', () => {
  const started: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop({ signal: 'SIGKILL' }).catch(() => undefined)));
  });

  it.each(
    cases.map(
      (c) =>
        [
          `${c.service} ${Object.entries(c.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
          c,
        ] as const,
    ),
  )(
    '%s exits non-zero naming the variable',
    async (_name, c) => {
      const t0 = Date.now();
      const service = await startService(c.service, {
        env: { NATS_URL: UNREACHABLE_NATS, LOG_LEVEL: 'info', ...c.env },
      });
      started.push(service);
      const exited = await service.waitExit(EXIT_WITHIN_MS);
      const output = service.output();
      expect({ exited, output }).toEqual({ exited: true, output: expect.any(String) });
      // 2 = configuration refused (1 would be a start-up failure such as no NATS server).
      expect({ exitCode: service.exitCode, output }).toEqual({ exitCode: 2, output });
      expect(Date.now() - t0).toBeLessThan(EXIT_WITHIN_MS);
      const issues = fatalIssues(output);
      expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(c.expects)]));
      expect(issues.join('\n')).toContain(c.variable);
      // Nothing started: the service never got as far as connecting.
      expect(output).not.toMatch(/connecting to NATS/);
    },
    30_000,
  );
});
