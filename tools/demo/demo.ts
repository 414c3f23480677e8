/**
 * `npm run demo`: against a running stack (`npm start`), define the fixture workflows, walk a few
 * dozen tokens through them (guards failing and passing), then print tokens per place, one
 * token's history, a tail of live events and a timed transition firing by itself. Re-runnable: token ids are unique per run and an
 * already defined workflow is fine.
 *
 * The gateway is `CB_URL` (default `http://127.0.0.1:${GATEWAY_PORT:-3000}`); the credential is
 * `CB_API_KEY`, else the root credential `npm start` keeps in `<CB_DATA_DIR>/admin-key` (an API
 * key needs `read`, `tokens:write` and `workflows:write`). Exit status 0 when
 * every answer was the expected one, 1 when the gateway is not there or something misbehaved (each
 * problem is printed with its request and response).
 *
 * Every request goes through the generated client (@cb/client). The modules: gateway (client,
 * credential, problems), plans (what is done with each workflow), run (defining and walking),
 * reads (stats, history), tail (live events), output (tables and colours).
 */
import { randomBytes } from 'node:crypto';
import { createCbClient } from '@cb/client';
import {
  adminKeyFile,
  apiCredential,
  gatewayClient,
  problemOf,
  problems,
  reachable,
} from './gateway';
import { bold, dim, green, heading, red, table } from './output';
import { PLANS } from './plans';
import { printHistory, printStats } from './reads';
import {
  defineWorkflows,
  guardRows,
  loadFixtures,
  pool,
  tally,
  walkToken,
  writes,
  type GuardRow,
  type TokenRun,
} from './run';
import { printTail } from './tail';
import { showTimer } from './timers';

const CONCURRENCY = 6;

async function main(): Promise<void> {
  const base = (
    process.env.CB_URL?.trim() || `http://127.0.0.1:${process.env.GATEWAY_PORT?.trim() || 3000}`
  ).replace(/\/+$/, '');
  const probeClient = createCbClient(base);
  const unreachable = await reachable(probeClient, base);
  if (unreachable) {
    console.error(
      `${unreachable}.\nStart the stack with \`npm start\` (or point CB_URL at a running gateway), then run \`npm run demo\` again.`,
    );
    process.exit(1);
  }
  const credential = apiCredential();
  if (credential === null) {
    console.error(
      `No credential: set CB_API_KEY, or start the stack with \`npm start\` (it keeps the root credential in ${adminKeyFile()}).`,
    );
    process.exit(1);
  }
  const client = gatewayClient(base, `Bearer ${credential}`);
  const probe = await client.GET('/v1/workflows', { params: { query: { limit: 1 } } });
  const refused = probe.response.status;
  if (refused === 401 || refused === 403) {
    console.error(
      `The gateway at ${base} refuses the credential (${refused} ${String(problemOf(probe)?.code)}): set CB_API_KEY to a key with read, tokens:write and workflows:write, or use the root credential in ${adminKeyFile()}.`,
    );
    process.exit(1);
  }
  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  console.log(`${bold('Circuit Breaker demo')} against ${base} ${dim(`(run ${runId})`)}`);

  const fixtures = loadFixtures();
  await defineWorkflows(client, fixtures);

  const jobs: Array<() => Promise<TokenRun>> = [];
  for (const f of fixtures) {
    const plan = PLANS[f.id];
    if (!plan) continue;
    for (let i = 0; i < plan.count; i++) jobs.push(() => walkToken(client, f.id, plan, i, runId));
  }
  const runs = await pool(jobs, CONCURRENCY);
  const fired = writes.filter((w) => w.what !== 'created').length;
  heading('Tokens');
  console.log(
    `  ${runs.length} tokens created (ids demo-${runId}-…), ${fired} transitions fired, ${tally.refusedAsExpected} fires refused as intended`,
  );

  heading('Guards and refusals');
  console.log(dim('  one example of each kind; a refused fire changes nothing'));
  const order = (r: GuardRow): string =>
    `${String(fixtures.findIndex((f) => f.id === r.workflowId)).padStart(3, '0')} ${r.tokenId}`;
  const examples = [...guardRows]
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .filter(
      (row, i, all) =>
        all.findIndex(
          (o) =>
            o.workflowId === row.workflowId && o.transition === row.transition && o.why === row.why,
        ) === i,
    );
  table(
    ['workflow', 'token', 'transition', 'request', 'answer', 'failing rule'],
    examples.flatMap((r) => [
      [r.workflowId, r.tokenId.slice(-6), r.transition, r.why, r.outcome, r.rules[0] ?? ''],
      ...r.rules.slice(1).map((rule) => ['', '', '', '', '', rule]),
    ]),
  );

  await printStats(client, fixtures, runs);
  const showcase =
    runs.find((r) => r.workflowId === 'article_publishing' && r.published) ??
    runs.reduce((a, b) => (b.versions.length > a.versions.length ? b : a), runs[0]!);
  if (showcase) await printHistory(client, showcase);
  await printTail(client, runs);
  await showTimer(client, runId);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length > 0) {
    heading(red(`${problems.length} problem(s)`));
    for (const p of problems) console.log(`  - ${p}`);
    console.log(`\nDemo finished in ${seconds} s with problems.`);
    process.exit(1);
  }
  console.log(`\n${green('Demo finished')} in ${seconds} s: every answer was the expected one.`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
