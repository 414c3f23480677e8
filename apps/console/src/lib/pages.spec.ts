import { FIRST_PAGE, hasPrevious, nextPage, pageNumber, previousPage } from './pages';
import { parseJsonObject } from './json-text';

describe('cursor pages', () => {
  it('goes forward with nextCursor and back through the cursors it came by', () => {
    const p2 = nextPage(FIRST_PAGE, 'c2');
    const p3 = nextPage(p2, 'c3');
    expect(pageNumber(p3)).toBe(3);
    expect(previousPage(p3)).toEqual(p2);
    expect(previousPage(p2)).toEqual(FIRST_PAGE);
    expect(hasPrevious(FIRST_PAGE)).toBe(false);
    expect(previousPage(FIRST_PAGE)).toBe(FIRST_PAGE);
  });
});

describe('parseJsonObject', () => {
  it('accepts objects, and empty text only when optional', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonObject('  ', true)).toEqual({ ok: true, value: undefined });
    expect(parseJsonObject('')).toMatchObject({ ok: false });
  });

  it('refuses what is not JSON or not an object', () => {
    for (const text of ['{a:1}', '[1]', '"x"', '1', 'null']) {
      expect(parseJsonObject(text)).toMatchObject({ ok: false });
    }
    expect(parseJsonObject('x'.repeat(1_000_001))).toMatchObject({ ok: false });
  });
});
