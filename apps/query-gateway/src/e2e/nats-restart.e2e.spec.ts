import { waitFor } from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

jest.setTimeout(180_000);

let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn', COMMAND_TIMEOUT_MS: '3000' },
    { projectionWorkers: 1, workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

/**
 * nats-server is SIGKILLed while patches stream in and restarted on the same store dir: the
 * gateway answers 503 with a code meanwhile (never hangs), and afterwards every acknowledged
 * write is in the stream exactly once and the read models converge — no service restarted.
 */
it('survives a NATS crash under load: acknowledged writes kept exactly once, read models converge', async () => {
  const tokens = 10;
  for (let t = 0; t < tokens; t++) {
    const res = await stack.call('POST', '/v1/workflows/document_review/tokens', {
      id: `crash-${t}`,
    });
    expect(res.status).toBe(201);
  }
  const pids = [stack.command, stack.gateway, ...stack.projections].map((s) => s.pid);

  const acknowledged = new Map<string, number>(); // "<token>:<n>" → version
  const statuses = new Map<number, number>();
  const codes = new Set<string>();
  let n = 0;
  let running = true;
  const writers = Array.from({ length: tokens }, async (_, t) => {
    while (running) {
      const value = n++;
      const started = Date.now();
      const res = await stack.call<{ version: number; code?: string }>(
        'PATCH',
        `/v1/workflows/document_review/tokens/crash-${t}`,
        { data: { n: value } },
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(Date.now() - started).toBeLessThan(10_000); // never hangs
      if (res.status === 200) acknowledged.set(`crash-${t}:${value}`, res.body.version);
      else {
        expect([503, 504]).toContain(res.status);
        expect(res.body.code).toMatch(/^[A-Z_]+$/);
        codes.add(res.body.code!);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  await waitFor(async () => acknowledged.size >= 200, { timeoutMs: 20_000 });
  await stack.nats.stop({ signal: 'SIGKILL' });
  await new Promise((r) => setTimeout(r, 1500));
  const ready = await fetch(`${stack.baseUrl}/ready`);
  expect(ready.status).toBe(503);
  const during = acknowledged.size;
  await stack.nats.restart();
  await waitFor(async () => acknowledged.size >= during + 200, { timeoutMs: 60_000 });
  running = false;
  await Promise.all(writers);

  expect(codes.size).toBeGreaterThan(0); // the outage was seen, as coded errors
  expect(statuses.get(500)).toBeUndefined();

  // Every acknowledged write is in the stream exactly once, at the version it was acknowledged with.
  const seen = new Map<string, number[]>();
  for (let t = 0; t < tokens; t++) {
    let cursor: string | undefined;
    do {
      const page = await stack.call<{
        items: Array<{ seq: number; event: { type: string; dataPatch?: { n?: number } } }>;
        nextCursor?: string;
      }>(
        'GET',
        `/v1/workflows/document_review/tokens/crash-${t}/history${cursor ? `?cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      for (const { seq, event } of page.body.items) {
        if (event.type !== 'token.updated.v1') continue;
        const key = `crash-${t}:${String(event.dataPatch?.n)}`;
        seen.set(key, [...(seen.get(key) ?? []), seq]);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
  }
  for (const [key, version] of acknowledged) expect([key, seen.get(key)]).toEqual([key, [version]]);

  // The read models converge on the stream, and every service is the same process as before.
  for (let t = 0; t < tokens; t++) {
    const strong = await stack.call<{ version: number }>(
      'GET',
      `/v1/workflows/document_review/tokens/crash-${t}?consistency=strong`,
    );
    // Leases held during the outage lapse and are claimed again: allow the lease time.
    const projected = await waitFor(
      async () => {
        const res = await stack.call<{ version: number }>(
          'GET',
          `/v1/tokens/crash-${t}?minSeq=${strong.body.version}`,
        );
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250, description: `crash-${t} projected` },
    );
    expect(projected.body.version).toBe(strong.body.version);
  }
  expect((await fetch(`${stack.baseUrl}/ready`)).status).toBe(200);
  expect([stack.command, stack.gateway, ...stack.projections].map((s) => s.pid)).toEqual(pids);
  expect(
    [stack.command, stack.gateway, ...stack.projections].every((s) => s.exitCode === null),
  ).toBe(true);
});
