import type { KeywordDefinition, SchemaValidateFunction } from 'ajv';

/** `uniqueItems` looks at no more items than this; a longer array fails the keyword. */
export const MAX_UNIQUE_ITEMS = 10_000;

/**
 * `uniqueItems` in linear time. Ajv's own compares every pair of items (O(n²) deep equality for
 * objects: 20k items blocked a core for seconds); this keys each item by a canonical JSON text
 * (object keys sorted, so `{a,b}` equals `{b,a}` as JSON Schema requires) and finds repeats with a
 * Map. Arrays longer than MAX_UNIQUE_ITEMS fail instead of being examined.
 */
export const uniqueItemsKeyword: KeywordDefinition = {
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  errors: true,
  validate: function validateUniqueItems(schema: boolean, data: unknown[]): boolean {
    const self = validateUniqueItems as SchemaValidateFunction;
    if (!schema) return true;
    if (data.length > MAX_UNIQUE_ITEMS) {
      self.errors = [
        {
          keyword: 'uniqueItems',
          message: `must NOT have more than ${MAX_UNIQUE_ITEMS} items to check uniqueItems`,
          params: { limit: MAX_UNIQUE_ITEMS },
        },
      ];
      return false;
    }
    const seen = new Map<string, number>();
    for (let i = 0; i < data.length; i++) {
      const key = canonical(data[i]);
      const j = seen.get(key);
      if (j !== undefined) {
        self.errors = [
          {
            keyword: 'uniqueItems',
            message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
            params: { i, j },
          },
        ];
        return false;
      }
      seen.set(key, i);
    }
    return true;
  },
};

/** JSON text with object keys sorted: equal JSON values (as JSON Schema defines it) map to equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
