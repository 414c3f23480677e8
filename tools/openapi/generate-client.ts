import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { GENERATE_COMMAND, generatedClientFiles } from './client';

/**
 * `npm run client:generate`: writes libs/client/openapi.json and libs/client/src/openapi.ts.
 * `--check` writes nothing and fails when either differs from what the routes generate (the drift
 * check of npm test, tools/openapi/client-drift.spec.ts).
 */
async function main(check: boolean): Promise<void> {
  const stale: string[] = [];
  for (const { path, content } of await generatedClientFiles()) {
    const shown = relative(process.cwd(), path);
    if (check) {
      if (readOrUndefined(path) !== content) stale.push(shown);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    process.stdout.write(`wrote ${shown}\n`);
  }
  if (stale.length > 0) {
    process.stderr.write(
      `${stale.join(' and ')} differ from what the routes generate: run ${GENERATE_COMMAND}\n`,
    );
    process.exit(1);
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

main(process.argv.includes('--check')).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
