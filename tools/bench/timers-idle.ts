/**
 * Timers at rest (issue 15: "100,000 pending timers cost nothing per second while none is due"):
 * two automation workers in the same run on the same server, one holding 100,000 pending timers
 * due tomorrow, the other none; the CPU each uses per second while nothing is due, read from
 * /proc/<pid>/stat (so measuring costs them nothing), and how long the loaded one took to load
 * its timers. The entries are written straight into the timers bucket, as the reactor would.
 */
import { connect } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import { LeanKv, ensureInfrastructure } from '@cb/nats';
import type { TimerEntry } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import {
  deploymentEnv,
  startAutomationWorker,
  startTestNats,
  stopAll,
  uniqueNaming,
  waitFor,
  type ServiceWithOps,
} from '@cb/testing';
import { cpuMsOf } from './process-cpu';

const TIMERS = 100_000;
const DAY_MS = 86_400_000;

export async function benchTimersIdle(seconds: number): Promise<void> {
  const nats = await startTestNats();
  const nc = await connect({ servers: nats.url });
  const workers: ServiceWithOps[] = [];
  const logger = createLogger({ service: 'bench', level: 'silent' });
  try {
    const loaded = uniqueNaming();
    const empty = uniqueNaming();
    for (const naming of [loaded, empty]) {
      const infra = await ensureInfrastructure(
        nc,
        naming,
        { replicas: 1, duplicateWindowMs: 600_000 },
        logger,
      );
      await infra.kvm.create(naming.timersBucket, { history: 1 });
      if (naming === loaded) await writeTimers(new LeanKv(infra.mux, naming.timersBucket), naming);
    }
    const started = performance.now();
    const [busy, idle] = await Promise.all(
      [loaded, empty].map((naming) =>
        startAutomationWorker(deploymentEnv(nats.url, naming, { LOG_LEVEL: 'info' })),
      ),
    );
    workers.push(busy!, idle!);
    await waitFor(async () => (await pending(busy!)) === TIMERS, {
      timeoutMs: 40_000,
      intervalMs: 200,
      description: `${TIMERS} timers loaded`,
    }).catch(async (err: unknown) => {
      console.error(`pending ${await pending(busy!)}\n${busy!.output().slice(-4000)}`);
      throw err;
    });
    const loadMs = performance.now() - started;
    // Let start-up work (JIT, GC of the load) settle before the measured interval.
    await new Promise((r) => setTimeout(r, 3000));
    const before = [cpuMsOf(busy!.pid), cpuMsOf(idle!.pid)];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = [cpuMsOf(busy!.pid), cpuMsOf(idle!.pid)];
    const perSecond = after.map((ms, i) => (ms - before[i]!) / seconds);
    console.log(
      [
        `timers at rest (${seconds} s, nothing due):`,
        `  worker with ${TIMERS.toLocaleString('en')} pending timers: ${perSecond[0]!.toFixed(1)} ms CPU per second (loaded in ${(loadMs / 1000).toFixed(1)} s, start included)`,
        `  worker with none:                 ${perSecond[1]!.toFixed(1)} ms CPU per second`,
      ].join('\n'),
    );
  } finally {
    await stopAll(workers);
    await nc.close();
    await nats.dispose();
  }
}

/** 100,000 tokens in a place with one timer each, due tomorrow, spread over the partitions. */
async function writeTimers(kv: LeanKv, naming: Naming): Promise<void> {
  const dueBase = Date.now() + DAY_MS;
  for (let i = 0; i < TIMERS; i += 2000) {
    await Promise.all(
      Array.from({ length: Math.min(2000, TIMERS - i) }, (_, j) => {
        const tokenId = `idle-${i + j}`;
        const entry: TimerEntry = {
          tenant: 'default',
          workflowId: 'idle',
          tokenId,
          definitionVersion: 1,
          status: 'live',
          place: 'waiting',
          enteredSeq: 1,
          seq: 1,
          timers: [
            { transition: 'expire', dueAt: new Date(dueBase + i + j).toISOString(), armedBy: 1 },
          ],
          unarmed: [],
          failed: [],
        };
        return kv.put(naming.timerKey('default', tokenId), entry);
      }),
    );
  }
}

async function pending(worker: ServiceWithOps): Promise<number> {
  const text = await (await fetch(`${worker.opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('cb_automation_timers_pending '));
  return line ? Number(line.split(' ')[1]) : 0;
}
