/** A JSON Pointer (RFC 6901) from object keys and array indexes: `['a/b', 0]` → `/a~1b/0`. */
export function jsonPointer(segments: ReadonlyArray<string | number>): string {
  let pointer = '';
  for (const segment of segments) {
    pointer += `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return pointer;
}
