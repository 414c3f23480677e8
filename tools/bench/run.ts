/**
 * `npm run bench [-- <name>…] [--seconds N] [--sizes 1000,10000,100000]`: runs the benchmarks
 * (all by default) and prints our figure beside the raw NATS baseline measured in the same run.
 * `--sizes` are the place sizes of the lists benchmark.
 */
import { benchAuthCost } from './auth-cost';
import { benchGuardIsolation } from './guard-isolation';
import { DEFAULT_SIZES, benchLists } from './lists';
import { benchProjection } from './projection';
import { benchReadPath } from './read-path';
import { benchStack } from './stack';
import { benchTimersIdle } from './timers-idle';
import { benchWritePath } from './write-path';

interface Options {
  seconds: number;
  sizes: number[];
}

const BENCHES: Record<string, (options: Options) => Promise<unknown>> = {
  write: ({ seconds }) => benchWritePath(seconds),
  read: ({ seconds }) => benchReadPath(seconds),
  projection: () => benchProjection(),
  guards: ({ seconds }) => benchGuardIsolation(seconds),
  auth: () => benchAuthCost(),
  stack: ({ seconds }) => benchStack(seconds),
  lists: (options) => benchLists(options),
  timers: ({ seconds }) => benchTimersIdle(seconds),
};

/** The flags that take a value; every other argument is a benchmark's name. */
const VALUED = ['--seconds', '--sizes'];

function parse(args: string[]): { names: string[]; options: Options } {
  const values = new Map<string, string>();
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (VALUED.includes(arg)) values.set(arg, args[++i] ?? '');
    else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else names.push(arg);
  }
  const seconds = Number(values.get('--seconds') ?? 10);
  if (!(seconds > 0)) usage('--seconds takes a positive number');
  const sizes = values.has('--sizes')
    ? values.get('--sizes')!.split(',').map(Number)
    : DEFAULT_SIZES;
  if (!sizes.length || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
    usage('--sizes takes positive whole numbers separated by commas, e.g. 1000,10000,100000');
  }
  return { names, options: { seconds, sizes } };
}

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npm run bench -- [${Object.keys(BENCHES).join('|')}]… ${VALUED.map((f) => `[${f} …]`).join(' ')}`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const { names, options } = parse(process.argv.slice(2));
  const selected = names.length ? names : Object.keys(BENCHES);
  for (const name of selected) {
    if (!BENCHES[name]) usage(`unknown benchmark ${name}`);
  }
  for (const name of selected) {
    console.log(`\n== ${name} (${options.seconds} s per measurement, ${new Date().toISOString()})`);
    await BENCHES[name]!(options);
  }
}

main().then(
  // A benchmark that saw errors is invalid: it sets process.exitCode.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
