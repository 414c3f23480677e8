import FindMyWay from 'find-my-way';
import type { App } from '../app-type';
import { ApiError } from '../api-error';
import { sendProblem } from './problem';
import { MAX_PARAM_LENGTH } from './url-limits';

const noop = (): void => undefined;

/**
 * Which methods each path has a route for: a second router (the one Fastify uses) fed from the
 * `onRoute` hook, asked once per method for a request no route matched.
 */
export class MethodTable {
  private readonly router = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  private readonly methods = new Set<string>();

  add(method: string, url: string): void {
    const m = method.toUpperCase() as FindMyWay.HTTPMethod;
    this.methods.add(m);
    if (!this.router.hasRoute(m, url)) this.router.on(m, url, noop);
  }

  /** The methods `path` has routes for, sorted (OPTIONS included when there is any); or none. */
  allowed(path: string): string[] {
    const found: string[] = [];
    for (const m of this.methods) {
      if (this.router.find(m as FindMyWay.HTTPMethod, path) !== null) found.push(m);
    }
    if (found.length > 0 && !found.includes('OPTIONS')) found.push('OPTIONS');
    return found.sort();
  }
}

/**
 * A request no route matched, for a path that has routes for other methods: `OPTIONS` answers
 * 204 with `Allow`, any other method 405 METHOD_NOT_ALLOWED with `Allow`. Decided in `onRequest`,
 * before any body is read. A path with no route at all is left to the not-found handler (404).
 */
export function installMethodHandling(app: App): MethodTable {
  const table = new MethodTable();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) table.add(method, route.url);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    const allowed = table.allowed(req.url);
    if (allowed.length === 0) return;
    reply.header('allow', allowed.join(', '));
    if (req.method === 'OPTIONS') return reply.code(204).send();
    return sendProblem(
      req,
      reply,
      new ApiError(
        'METHOD_NOT_ALLOWED',
        `${req.method} is not allowed here; this path allows ${allowed.join(', ')}`,
        { allow: allowed },
      ),
    );
  });
  return table;
}
