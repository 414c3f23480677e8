import { bulkFilter, filterProblems, rowsFromQuery, searchParams, typedValue } from './filters';

describe('place filters', () => {
  const rows = [
    { scope: 'metadata' as const, key: 'batch', value: 'b1' },
    { scope: 'metadata' as const, key: 'priority', value: '1' },
    { scope: 'data' as const, key: 'lang', value: '"en"' },
    { scope: 'data' as const, key: 'ok', value: 'true' },
    { scope: 'data' as const, key: '', value: '' },
  ];

  it('builds the search query (text) and the bulk filter (typed) from the same rows', () => {
    expect(searchParams(rows)).toEqual({
      'metadata.batch': 'b1',
      'metadata.priority': '1',
      'data.lang': 'en',
      'data.ok': 'true',
    });
    expect(bulkFilter(rows)).toEqual({
      metadata: { batch: 'b1', priority: 1 },
      data: { lang: 'en', ok: true },
    });
    expect(bulkFilter([])).toBeUndefined();
  });

  it('types values written as JSON scalars, and keeps anything else as text', () => {
    expect(typedValue('1')).toBe(1);
    expect(typedValue('"1"')).toBe('1');
    expect(typedValue('false')).toBe(false);
    expect(typedValue('null')).toBe('null');
    expect(typedValue('{"a":1}')).toBe('{"a":1}');
    expect(typedValue(' ')).toBe(' ');
  });

  it('refuses bad keys, repeats, long values and too many keys', () => {
    expect(filterProblems(rows)).toEqual([]);
    const bad = filterProblems([
      { scope: 'metadata', key: 'a b', value: 'x' },
      { scope: 'metadata', key: 'k', value: 'x' },
      { scope: 'metadata', key: 'k', value: 'y' },
      { scope: 'data', key: 'v', value: 'x'.repeat(1025) },
    ]);
    expect(bad.map((p) => p.row)).toEqual([0, 2, 3]);
    const many = Array.from({ length: 17 }, (_, i) => ({
      scope: 'data' as const,
      key: `k${i}`,
      value: '1',
    }));
    expect(filterProblems(many)).toEqual([{ row: 16, message: 'at most 16 data keys' }]);
  });

  it('reads rows back from the page query, ignoring other parameters', () => {
    const q = new URLSearchParams('metadata.batch=b1&data.lang=en&other=1&.x=2');
    expect(rowsFromQuery(q)).toEqual([
      { scope: 'metadata', key: 'batch', value: 'b1' },
      { scope: 'data', key: 'lang', value: 'en' },
    ]);
  });
});
