import { startCommandService, stopAll, waitFor, type ServiceWithOps } from '@cb/testing';
import { type E2eStack, startE2eStack } from './stack';

/*
 * Issue 11, deliverables 1 and 2, against the services as processes: command-service instances
 * share the token partitions through leases, a command reaches its partition's owner, the owner
 * applies one token's commands one at a time — so concurrency is exact whatever the server's
 * expected-sequence check does — and a hand-over (scale-in, a killed instance) makes commands
 * wait for the new owner instead of failing.
 */

jest.setTimeout(180_000);

const LEASE_TTL_MS = 3000;

let stack: E2eStack;
const extra: ServiceWithOps[] = [];
const call: E2eStack['call'] = (...args) => stack.call(...args);

interface Health {
  owned: Array<number | 'definitions'>;
}

async function owned(service: ServiceWithOps): Promise<Array<number | 'definitions'>> {
  const res = await fetch(`${service.opsUrl}/health`);
  return ((await res.json()) as Health).owned;
}

async function token(workflowId: string): Promise<{ id: string; version: number }> {
  const res = await call<{ id: string; version: number }>(
    'POST',
    `/v1/workflows/${workflowId}/tokens`,
    {},
  );
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(async () => {
  stack = await startE2eStack(
    // Long enough to wait out a killed instance's leases.
    { COMMAND_LEASE_TTL_MS: String(LEASE_TTL_MS), COMMAND_TIMEOUT_MS: '8000' },
    { workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stopAll(extra);
  await stack?.stop();
});

describe('issue 11, deliver 1: one writer per token', () => {
  it('shares the partitions and the definitions between the instances, each item owned once', async () => {
    const first = stack.command as ServiceWithOps;
    extra.push(await startCommandService(stack.env));
    const second = extra[0]!;
    await waitFor(
      async () => {
        const [a, b] = await Promise.all([owned(first), owned(second)]);
        return a.length > 0 && b.length > 0 && a.length + b.length === 9;
      },
      { timeoutMs: 20_000, description: 'both instances own a share' },
    );
    const [a, b] = await Promise.all([owned(first), owned(second)]);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 'definitions'].sort());
  });
});

describe('issue 11, deliver 2: concurrency exact', () => {
  it('30 concurrent fires with the same If-Match: exactly 1 × 200 and 29 × 412, one event', async () => {
    const t = await token('document_review');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(
          'POST',
          `/v1/workflows/document_review/tokens/${t.id}/fire`,
          { transition: 'submit' },
          {
            'if-match': `"${t.version}"`,
          },
        ),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(29);
    expect(await stack.countOn(stack.naming.tokenSubject('default', 'document_review', t.id))).toBe(
      2,
    );
  });

  it('30 concurrent submits without If-Match: exactly one event, the others see the token moved', async () => {
    const t = await token('document_review');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        call('POST', `/v1/workflows/document_review/tokens/${t.id}/fire`, { transition: 'submit' }),
      ),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(
      answers.filter((r) => r.status === 422 && r.body.code === 'TRANSITION_NOT_ENABLED'),
    ).toHaveLength(29);
    expect(await stack.countOn(stack.naming.tokenSubject('default', 'document_review', t.id))).toBe(
      2,
    );
  });
});

describe('issue 11, deliver 1: a hand-over makes commands wait, not fail', () => {
  /** Tokens spread over every partition, each moved back and forth by one client at a time. */
  async function firing(seconds: number): Promise<{ ok: number; failed: string[] }> {
    const tokens = await Promise.all(Array.from({ length: 24 }, () => token('document_review')));
    const deadline = Date.now() + seconds * 1000;
    const failed: string[] = [];
    let ok = 0;
    await Promise.all(
      tokens.map(async (t) => {
        // submit → review → reject → revise → submit …: every fire is a new event.
        const cycle = ['submit', 'review', 'reject', 'revise'];
        for (let i = 0; Date.now() < deadline; i++) {
          const res = await call('POST', `/v1/workflows/document_review/tokens/${t.id}/fire`, {
            transition: cycle[i % cycle.length],
          });
          if (res.status === 200) ok++;
          else failed.push(`${res.status} ${String(res.body?.code)}`);
        }
      }),
    );
    return { ok, failed };
  }

  it('scales in gracefully: the stopped instance hands its partitions over and no fire fails', async () => {
    const second = extra[0]!;
    const load = firing(6);
    await new Promise((r) => setTimeout(r, 1500));
    await second.stop({ signal: 'SIGTERM' });
    const { ok, failed } = await load;
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect((await owned(stack.command as ServiceWithOps)).length).toBe(9);
  });

  it('takes over a SIGKILLed instance’s partitions once its leases expire; later fires wait and succeed', async () => {
    extra.push(await startCommandService(stack.env));
    const victim = extra.at(-1)!;
    await waitFor(async () => (await owned(victim)).length > 0, { timeoutMs: 20_000 });
    const load = firing(LEASE_TTL_MS / 1000 + 6);
    await new Promise((r) => setTimeout(r, 1500));
    victim.kill('SIGKILL');
    const { ok, failed } = await load;
    // A fire the killed instance had received but not answered may or may not have happened:
    // 504 COMMAND_TIMEOUT says so (each client has one fire in flight). Every other fire waits
    // for the new owner and succeeds: no 503, no other error.
    expect(failed.filter((f) => f !== '504 COMMAND_TIMEOUT')).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(24);
    expect(ok).toBeGreaterThan(50);
    expect((await owned(stack.command as ServiceWithOps)).length).toBe(9);
  });
});
