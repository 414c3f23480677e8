import { launchStack, type LaunchedStack } from './launched-stack';
import { runListsBench } from './lists';
import { runStackBench } from './stack';

/*
 * A smoke run of the full-stack benchmarks on one stack started as `npm start` starts it, so CI
 * proves they still start, measure every row and see no errors. Figures are printed, never
 * asserted: throughput is for the benchmark runs, not for a timed test.
 */
const SERVICES = ['launcher', 'gateway', 'command', 'projection-1', 'projection-2', 'nats-server'];

describe('full-stack benchmarks (smoke run)', () => {
  let stack: LaunchedStack | undefined;

  beforeAll(async () => {
    stack = await launchStack();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 40_000);

  it('measures fires, catch-up, GETs and list pages beside raw NATS, with CPU per process', async () => {
    const result = await runStackBench(stack!, 1, 200);
    expect(result.errors).toBe(0);
    for (const s of [result.fires, result.gets, result.listPages, ...result.rawGets]) {
      expect(s.count).toBeGreaterThan(0);
    }
    expect(result.rawPublish.map((s) => s.count > 0)).toEqual([true, true]);
    expect(result.caughtUpSeconds).toBeGreaterThanOrEqual(0);
    for (const costs of Object.values(result.cpu)) {
      expect(costs.map((c) => c.name)).toEqual([...SERVICES, 'load generator']);
      for (const c of costs) expect(Number.isFinite(c.msPer1000)).toBe(true);
    }
    // The gateway served every request: it cannot have used no CPU.
    expect(result.cpu.fires.find((c) => c.name === 'gateway')!.msPer1000).toBeGreaterThan(0);
  }, 60_000);

  it('measures each list and search page at each size, and history at two lengths', async () => {
    const result = await runListsBench(stack!, {
      seconds: 1,
      sizes: [60, 130],
      historyEvents: 230,
    });
    expect(result.errors).toBe(0);
    expect(result.sizes.map((s) => s.size)).toEqual([60, 130]);
    for (const size of result.sizes) {
      expect(Object.keys(size.pages)).toEqual([
        'first page',
        'later page',
        'first page, minSeq',
        'search',
        'metadata filter',
      ]);
      for (const s of [...Object.values(size.pages), size.rawGet]) {
        expect(s.count).toBeGreaterThan(0);
      }
    }
    // The short history's measured fires add events: the long one has at least what was asked.
    expect(result.history[0]!.events).toBe(200);
    expect(result.history[1]!.events).toBeGreaterThanOrEqual(230);
  }, 60_000);
});
