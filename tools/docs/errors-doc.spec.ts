import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS, ERROR_CODES } from '@cb/schemas';
import { ERRORS_DOC, errorTable, renderErrorsDoc } from './errors-doc';

const committed = readFileSync(join(__dirname, '..', '..', ERRORS_DOC), 'utf8');

describe('docs/errors.md', () => {
  it('holds the table the catalogue makes (npm run docs:errors writes it)', () => {
    expect(renderErrorsDoc(committed)).toBe(committed);
  });

  it('has one row per code with its status and title, in the catalogue order', () => {
    const rows = errorTable()
      .split('\n')
      .slice(2)
      .map((row) => row.split(' | ').map((cell) => cell.replace(/^\| /, '').trim()));
    expect(rows.map((row) => row[0])).toEqual(ERROR_CODES.map((code) => `\`${code}\``));
    for (const [i, code] of ERROR_CODES.entries()) {
      expect(rows[i]![1]).toBe(String(ERRORS[code].status));
      expect(rows[i]![2]).toBe(ERRORS[code].title);
    }
  });

  it('refuses a page without the markers of its generated table', () => {
    expect(() => renderErrorsDoc('# Error codes\n')).toThrow(/markers/);
  });
});
