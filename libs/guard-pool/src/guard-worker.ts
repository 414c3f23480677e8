/**
 * The guard worker: a worker thread that compiles and evaluates guards, so that no guard runs on a
 * service's event loop. The pool times every step and terminates the thread when one overruns;
 * for definitions that overran before, the worker also runs each evaluation under a watchdog of
 * its own, which interrupts it and keeps the thread and its compiled guards.
 */
import { Script } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { compileGuards, evaluateOne, type CompiledGuards, type GuardVerdict } from '@cb/domain';
import type { FromWorker, GuardSet, ToWorker } from './protocol';

/** Compiled definitions kept per worker; the pool resends a definition this worker evicted. */
const CACHE_SIZE = 256;
const cache = new Map<string, CompiledGuards>();

const port = parentPort;
if (port === null) throw new Error('guard-worker must run in a worker thread');
const post = (message: FromWorker): void => port.postMessage(message);

function compile(set: GuardSet): CompiledGuards {
  const compiled = compileGuards(set.transitions);
  cache.delete(set.key);
  cache.set(set.key, compiled);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return compiled;
}

// The watchdog: vm's timeout interrupts the script (and whatever it calls, regular expressions
// included) and the isolate carries on.
const watched = new Script('__cbGuardEvaluation()');
let evaluation: () => GuardVerdict = () => ({ status: 'passed' });
(globalThis as Record<string, unknown>).__cbGuardEvaluation = () => evaluation();

function evaluateWatched(work: () => GuardVerdict, timeoutMs: number): GuardVerdict | null {
  evaluation = work;
  try {
    return watched.runInThisContext({ timeout: timeoutMs }) as GuardVerdict;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return null;
    throw err;
  }
}

port.on('message', (message: ToWorker) => {
  const { job } = message;
  if (message.type === 'compile') {
    // A definition-time check: not cached, since the definition may never be stored (it may be
    // invalid, or lose a race to another definition of the same id and version).
    post({ type: 'compiled', job, errors: compileGuards(message.set.transitions).errors });
    post({ type: 'done', job });
    return;
  }
  let compiled = cache.get(message.key);
  if (compiled === undefined) {
    if (message.set === undefined) {
      post({ type: 'missing', job });
      return;
    }
    compiled = compile(message.set);
    post({ type: 'compiled', job, errors: compiled.errors });
  }
  const guards = compiled;
  message.requests.forEach((request, index) => {
    const work = () => evaluateOne(guards, request.transition, request.input);
    const verdict =
      message.watchdogMs === undefined ? work() : evaluateWatched(work, message.watchdogMs);
    post(
      verdict === null ? { type: 'overrun', job, index } : { type: 'verdict', job, index, verdict },
    );
  });
  post({ type: 'done', job });
});

// Warm up before saying ready: the first compilation in a thread also compiles the meta-schema
// and warms Ajv's code paths (~40 ms), which must not land on the first evaluation's budget.
compileGuards([
  { id: 'warm-up', from: ['a'], to: 'b', guard: { properties: { data: { pattern: '^a+$' } } } },
]);
post({ type: 'ready' });
