import { type JsonObject } from '@cb/schemas';
import { isJsonObject, setOwn } from './json-object';

interface Frame {
  out: JsonObject;
  target: unknown;
  patch: JsonObject;
}

/**
 * JSON Merge Patch (RFC 7386): objects merge key by key, `null` deletes, anything else (arrays
 * included) replaces. Returns a new value and never mutates its inputs; unchanged subtrees and
 * non-object patch values may be shared with the inputs, so treat the result as immutable.
 * Keys such as `__proto__` and `constructor` are stored as ordinary own properties.
 *
 * Iterative, so a deep patch cannot overflow the stack. Key order: the target's keys keep their
 * position, new keys follow in patch order.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const root: JsonObject = {};
  const stack: Frame[] = [{ out: root, target, patch }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { out, patch: p } = frame;
    // RFC 7386: a non-object target is replaced by {} before the patch applies.
    const base: JsonObject = isJsonObject(frame.target) ? frame.target : {};
    const apply = (key: string, value: unknown, current: unknown): void => {
      if (value === null) return;
      if (isJsonObject(value)) {
        const child: JsonObject = {};
        setOwn(out, key, child);
        stack.push({ out: child, target: current, patch: value });
      } else {
        setOwn(out, key, value);
      }
    };
    for (const key of Object.keys(base)) {
      if (Object.hasOwn(p, key)) apply(key, p[key], base[key]);
      else setOwn(out, key, base[key]);
    }
    for (const key of Object.keys(p)) {
      if (!Object.hasOwn(base, key)) apply(key, p[key], undefined);
    }
  }
  return root;
}
