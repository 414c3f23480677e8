import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/**
 * Issue 13, deliverable 2: the committed client (libs/client) is what the routes generate today.
 * The generator runs in its own process: openapi-typescript pulls in ESM-only packages.
 */
describe('the generated client (libs/client) is up to date', () => {
  it('matches the document and the types the routes generate (else: npm run client:generate)', async () => {
    const answer = await run(
      join(ROOT, 'node_modules/.bin/tsx'),
      [join(ROOT, 'tools/openapi/generate-client.ts'), '--check'],
      { cwd: ROOT },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(answer).toEqual({ code: 0, stderr: '' });
  }, 120_000);
});
