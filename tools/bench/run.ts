/**
 * `npm run bench [-- <name>…] [--seconds N]`: runs the benchmarks (all by default) and prints
 * our figure beside the raw NATS baseline measured in the same run.
 */
import { benchAuthCost } from './auth-cost';
import { benchGuardIsolation } from './guard-isolation';
import { benchProjection } from './projection';
import { benchReadPath } from './read-path';
import { benchStack } from './stack';
import { benchWritePath } from './write-path';

const BENCHES: Record<string, (seconds: number) => Promise<unknown>> = {
  write: benchWritePath,
  read: benchReadPath,
  projection: () => benchProjection(),
  guards: benchGuardIsolation,
  auth: () => benchAuthCost(),
  stack: benchStack,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const secondsFlag = args.indexOf('--seconds');
  const seconds = secondsFlag >= 0 ? Number(args[secondsFlag + 1]) : 10;
  const names = args.filter(
    (a, i) => !a.startsWith('--') && (secondsFlag < 0 || i !== secondsFlag + 1),
  );
  const selected = names.length ? names : Object.keys(BENCHES);
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench) {
      console.error(`unknown benchmark ${name}; choose from ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    console.log(`\n== ${name} (${seconds} s per measurement, ${new Date().toISOString()})`);
    await bench(seconds);
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
