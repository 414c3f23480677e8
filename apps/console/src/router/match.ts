/**
 * The console's routes are path patterns under the base (`/console/`): `:name` segments capture
 * one percent-decoded segment. A hand-rolled matcher (seven routes) instead of a router package.
 */
export const BASE = '/console';

export interface RouteMatch<K extends string> {
  route: K;
  params: Record<string, string>;
}

/** Compile `workflows/:wf/places/:place` into a matcher of the path after the base. */
function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export function matchRoute<K extends string>(
  table: Readonly<Record<K, string>>,
  pathname: string,
): RouteMatch<K> | undefined {
  if (pathname !== BASE && !pathname.startsWith(`${BASE}/`)) return undefined;
  const segs = segmentsOf(pathname.slice(BASE.length));
  for (const route of Object.keys(table) as K[]) {
    const pattern = segmentsOf(table[route]);
    if (pattern.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i] as string;
      const s = segs[i] as string;
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(s);
        } catch {
          ok = false;
        }
      } else ok = p === s;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

/** `/console/workflows/a%20b` from `workflows/:wf` and `{ wf: 'a b' }`. */
export function hrefOf(pattern: string, params: Record<string, string> = {}): string {
  const path = segmentsOf(pattern)
    .map((p) => (p.startsWith(':') ? encodeURIComponent(params[p.slice(1)] ?? '') : p))
    .join('/');
  return `${BASE}/${path}`;
}
