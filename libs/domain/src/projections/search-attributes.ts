/**
 * The text a search attribute (`metadata.<key>` or `data.<key>`) has on a token: a string, number
 * or boolean as text, compared as the metadata filters compare; anything else (absent, null, an
 * object or array) is not indexed. Own keys only: `toString` or `__proto__` are never a value.
 */
export function attributeText(
  state: { data: unknown; metadata: unknown },
  attribute: string,
): string | undefined {
  const dot = attribute.indexOf('.');
  const root = attribute.slice(0, dot);
  const key = attribute.slice(dot + 1);
  const holder = root === 'metadata' ? state.metadata : root === 'data' ? state.data : undefined;
  if (holder === null || typeof holder !== 'object' || Array.isArray(holder)) return undefined;
  if (!Object.hasOwn(holder, key)) return undefined;
  const value = (holder as Record<string, unknown>)[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
