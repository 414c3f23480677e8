import { jsonPointer } from './pointer';

/** Why a JSON number cannot be kept as the client wrote it. */
export type NumberProblemKind = 'overflow' | 'underflow' | 'unsafe-integer';

export interface NumberProblem {
  /** JSON Pointer of the number in the document. */
  pointer: string;
  /** The number as written (cut to 40 characters). */
  literal: string;
  kind: NumberProblemKind;
}

/**
 * Only a number with 16 digits in a row or an exponent of 3 digits can be out of range: with
 * fewer, a literal is at most about 1e114 and at least about 1e-114 in magnitude, and an integer
 * at most 999,999,999,999,999. Bodies without either (nearly all) are not scanned at all.
 */
const SUSPECT = /\d{16}|[eE][+-]?\d{3}/;
const LITERAL_SHOWN = 40;

/**
 * The numbers of a JSON text that `JSON.parse` would silently change: those that overflow to
 * ±Infinity (which JSON.stringify then writes as `null`), non-zero literals that underflow to 0,
 * and integer literals (no fraction, no exponent) beyond ±(2^53−1), which lose digits. At most
 * `limit`, in document order.
 *
 * `text` must be valid JSON (parse it first): one linear pass over its tokens, skipping strings,
 * so digits inside strings never count. Numbers written with a fraction or an exponent are
 * doubles by intent and only have to be finite and not flushed to zero.
 */
export function findUnsafeNumbers(text: string, limit = 20): NumberProblem[] {
  if (!SUSPECT.test(text)) return [];
  const problems: NumberProblem[] = [];
  const stack: Frame[] = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n && problems.length < limit;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // "
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        top.keyStart = i;
        top.keyEnd = end + 1;
        expectKey = false;
      }
      i = end + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // - or a digit
      const end = numberEnd(text, i);
      const literal = text.slice(i, end);
      const kind = problemOf(literal);
      if (kind) {
        problems.push({
          pointer: pointerOf(text, stack),
          literal: literal.length > LITERAL_SHOWN ? `${literal.slice(0, LITERAL_SHOWN)}…` : literal,
          kind,
        });
      }
      i = end;
    } else {
      if (c === 0x7b || c === 0x5b) {
        // { or [
        stack.push({ array: c === 0x5b, index: 0, keyStart: -1, keyEnd: -1 });
        expectKey = c === 0x7b;
      } else if (c === 0x7d || c === 0x5d) {
        // } or ]
        stack.pop();
        expectKey = false;
      } else if (c === 0x2c) {
        // ,
        const top = stack[stack.length - 1];
        if (top?.array) top.index++;
        else expectKey = true;
      }
      i++;
    }
  }
  return problems;
}

interface Frame {
  array: boolean;
  /** The current element of an array. */
  index: number;
  /** The current key of an object: the bounds of its string token, quotes included. */
  keyStart: number;
  keyEnd: number;
}

/** Index of the quote that closes the string opening at `start` (one not escaped). */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    let b = quote - 1;
    while (text.charCodeAt(b) === 0x5c) b--;
    // An even number of backslashes before it: the quote is not escaped.
    if ((quote - 1 - b) % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
}

function numberEnd(text: string, start: number): number {
  let i = start + 1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // digits . e E + -
    const part =
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2e ||
      c === 0x65 ||
      c === 0x45 ||
      c === 0x2b ||
      c === 0x2d;
    if (!part) break;
  }
  return i;
}

function problemOf(literal: string): NumberProblemKind | undefined {
  const value = Number(literal);
  if (!Number.isFinite(value)) return 'overflow';
  const exponent = literal.search(/[eE]/);
  const mantissa = exponent < 0 ? literal : literal.slice(0, exponent);
  if (value === 0) return /[1-9]/.test(mantissa) ? 'underflow' : undefined;
  const integer = exponent < 0 && !mantissa.includes('.');
  return integer && Math.abs(value) > Number.MAX_SAFE_INTEGER ? 'unsafe-integer' : undefined;
}

function pointerOf(text: string, stack: readonly Frame[]): string {
  return jsonPointer(
    stack.map((f) =>
      f.array ? f.index : (JSON.parse(text.slice(f.keyStart, f.keyEnd)) as string),
    ),
  );
}
