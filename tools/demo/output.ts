/** The demo's terminal output: colours (off without a TTY or with NO_COLOR), tables, headings. */

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint =
  (code: number) =>
  (text: string): string =>
    color ? `\x1b[${code}m${text}\x1b[0m` : text;
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);

/** Pad to a width, ANSI codes ignored. */
// eslint-disable-next-line no-control-regex -- ANSI colour codes take no width
const visible = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, width: number, right = false): string => {
  const fill = ' '.repeat(Math.max(0, width - visible(text)));
  return right ? fill + text : text + fill;
};

/** An aligned table; columns whose header starts with '>' are right-aligned. */
export function table(headers: string[], rows: string[][], indent = '  '): void {
  const right = headers.map((h) => h.startsWith('>'));
  const names = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const widths = names.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => pad(c, widths[i]!, right[i]))
      .join('  ')
      .trimEnd();
  console.log(dim(line(names)));
  for (const row of rows) console.log(line(row));
}

export function heading(text: string): void {
  console.log(`\n${bold(text)}`);
}

/** A short JSON rendering for small objects; long ones are cut. */
export function brief(value: unknown, max = 60): string {
  const text = JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
