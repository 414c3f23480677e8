/**
 * Whether `value` nests more than `maxDepth` levels of objects/arrays. A scalar has depth 0,
 * `{}` and `[]` depth 1, `{ a: [1] }` depth 2.
 *
 * Iterative with an early exit, so hostile input (10,000 levels, or even a cyclic object) costs
 * at most `maxDepth` levels of work per path and never overflows the stack.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) return true;
    for (const child of Object.values(item.value)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth });
    }
  }
  return false;
}
