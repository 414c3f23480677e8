import { ERRORS, ERROR_CODES } from '@cb/schemas';

/** docs/errors.md, relative to the repository root. */
export const ERRORS_DOC = 'docs/errors.md';

const BEGIN =
  '<!-- error table: generated from libs/schemas/src/errors.ts by `npm run docs:errors` -->';
const END = '<!-- end of the generated error table -->';

/**
 * The table of error codes in docs/errors.md, from the catalogue (`ERRORS`), laid out as
 * Prettier lays out a Markdown table (so `npm run format` leaves it as it is).
 */
export function errorTable(): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const rows = [
    ['code', 'status', 'title', 'when', 'extension members'],
    ...ERROR_CODES.map((code) => {
      const { status, title, when, members } = ERRORS[code];
      return [`\`${code}\``, String(status), cell(title), cell(when), cell(members ?? '')];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(3, ...rows.map((row) => width(row[i]!))));
  const line = (row: string[]): string =>
    `| ${row.map((text, i) => text + ' '.repeat(widths[i]! - width(text))).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head!), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Display width as Prettier counts it: one column per code point (no wide characters here). */
function width(text: string): number {
  return [...text].length;
}

/**
 * docs/errors.md with its generated table replaced by the catalogue's: the prose around it is
 * written by hand, the table between the markers never.
 */
export function renderErrorsDoc(current: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`${ERRORS_DOC} lacks the markers of its generated table (${BEGIN} … ${END})`);
  }
  return `${current.slice(0, start)}${BEGIN}\n\n${errorTable()}\n\n${current.slice(end)}`;
}
