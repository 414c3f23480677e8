/**
 * Writes the error table of docs/errors.md from the catalogue in libs/schemas/src/errors.ts.
 * `npm run docs:errors`; tools/docs/errors-doc.spec.ts fails when the committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS_DOC, renderErrorsDoc } from './errors-doc';

const file = join(__dirname, '..', '..', ERRORS_DOC);
writeFileSync(file, renderErrorsDoc(readFileSync(file, 'utf8')));
process.stdout.write(`wrote ${file}\n`);
