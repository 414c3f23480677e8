import { startCommandService, stopAll, type ServiceProcess } from '@cb/testing';
import { COMMAND_PING_INTERVAL_MS, COMMAND_PING_STALE_MS } from '../command-probe';
import { expectProblem, startE2eStack, type E2eStack } from './stack';

/*
 * The gateway's /ready and its writes follow the command service's ping. COMMAND_TIMEOUT_MS is
 * a minute, so a write that answers within a second was refused at once, not timed out.
 */

jest.setTimeout(90_000);

const COMMAND_TIMEOUT_MS = 60_000;
/** Margin over the behaviour's own bound for a busy test machine and the 50 ms polling. */
const SLACK_MS = 1000;

let stack: E2eStack;
const extra: ServiceProcess[] = [];

interface Ready {
  status: string;
  checks: Record<string, boolean>;
}

beforeAll(async () => {
  stack = await startE2eStack(
    { COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) },
    { projectionWorkers: 1, workflows: ['document-review'] },
  );
});

afterAll(async () => {
  stack?.command.kill('SIGCONT');
  await stopAll(extra);
  await stack?.stop();
});

/** Poll /ready every 50 ms until its status is `status`; how long that took. */
async function readyBecomes(
  status: 200 | 503,
  withinMs: number,
): Promise<{ ms: number; body: Ready }> {
  const t0 = Date.now();
  for (;;) {
    const res = await stack.call<Ready>('GET', '/ready');
    const ms = Date.now() - t0;
    if (res.status === status) return { ms, body: res.body };
    if (ms > withinMs) {
      throw new Error(`/ready still answered ${res.status} ${res.text} after ${ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A write while no command service answers: 503 COMMAND_SERVICE_UNAVAILABLE, fast. */
async function expectFastRefusal(tokenId: string): Promise<void> {
  const t0 = Date.now();
  const res = await stack.call('PATCH', `/v1/workflows/document_review/tokens/${tokenId}`, {
    data: { refused: true },
  });
  const ms = Date.now() - t0;
  expectProblem(res, 503, 'COMMAND_SERVICE_UNAVAILABLE');
  expect(res.headers.get('retry-after')).toBe('1');
  expect(ms).toBeLessThan(1000);
}

async function createToken(): Promise<string> {
  const res = await stack.call<{ id: string }>('POST', '/v1/workflows/document_review/tokens', {});
  expect(res.status).toBe(201);
  return res.body.id;
}

async function expectWriteSucceeds(tokenId: string, n: number): Promise<void> {
  const res = await stack.call<{ data: { n: number } }>(
    'PATCH',
    `/v1/workflows/document_review/tokens/${tokenId}`,
    { data: { n } },
  );
  expect({ status: res.status, n: res.body?.data?.n }).toEqual({ status: 200, n });
}

describe('issue 10, measured 9: /ready answers 200 while the command service is hung or dead', () => {
  it('a hung (SIGSTOP) command service fails /ready within ~2 s and writes answer 503 at once; SIGCONT recovers', async () => {
    const tokenId = await createToken();
    const ready = await readyBecomes(200, 10_000);
    expect(ready.body.checks.commandService).toBe(true);

    stack.command.kill('SIGSTOP');
    const hung = await readyBecomes(503, COMMAND_PING_STALE_MS + SLACK_MS);
    expect(hung.body.checks).toMatchObject({ commandService: false, nats: true, stream: true });
    await expectFastRefusal(tokenId);

    stack.command.kill('SIGCONT');
    const back = await readyBecomes(200, COMMAND_PING_INTERVAL_MS + SLACK_MS);
    expect(back.body.checks.commandService).toBe(true);
    await expectWriteSucceeds(tokenId, 1);
    // The refused write was never sent: the token holds only the write after recovery.
    const history = await stack.call<{ items: Array<{ event: { dataPatch?: unknown } }> }>(
      'GET',
      `/v1/workflows/document_review/tokens/${tokenId}/history`,
    );
    expect(history.body.items.map((i) => i.event.dataPatch).filter(Boolean)).toEqual([{ n: 1 }]);
  });

  it('a dead (SIGKILL) command service fails /ready within a ping and writes answer 503 at once; a new one recovers', async () => {
    const tokenId = await createToken();
    await readyBecomes(200, 10_000);

    stack.command.kill('SIGKILL');
    expect(await stack.command.waitExit(5000)).toBe(true);
    const dead = await readyBecomes(503, COMMAND_PING_INTERVAL_MS + SLACK_MS);
    expect(dead.body.checks).toMatchObject({ commandService: false, nats: true });
    await expectFastRefusal(tokenId);

    extra.push(await startCommandService(stack.env));
    const back = await readyBecomes(200, COMMAND_PING_INTERVAL_MS + SLACK_MS);
    expect(back.body.checks.commandService).toBe(true);
    await expectWriteSucceeds(tokenId, 2);
  });
});
