import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api-error';
import { sendProblem } from '../http/problem';

/** Where the console is served; `/console` itself redirects here. */
export const CONSOLE_PATH = '/console/';

/**
 * What every `/console` answer carries. The build has no inline script or style and never
 * evaluates strings (Vite, Preact), so nothing but the console's own files may run or load, and
 * the API it calls is on the same origin.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** Hashed build output (Vite's `assets/`): a name never changes content, so it is cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and other unhashed files: revalidated every time (ETag / Last-Modified). */
const REVALIDATE = 'no-cache';

export const NOT_BUILT_MESSAGE =
  'The console has not been built: run npm run console:build (npm start does it)';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Circuit Breaker console not built</title></head>
<body><h1>Circuit Breaker console</h1><p>${NOT_BUILT_MESSAGE}.</p></body>
</html>
`;

/**
 * One path segment the console can have: file names of the build and the ids of its routes
 * (ids are `[A-Za-z0-9_-]`). No `.`/`..`, no dotfiles, no separators once decoded: a request
 * with anything else is 404 before the file system is asked.
 */
const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,254}$/;
/** Longest path under /console/ looked at (longer is 404: no console route is that deep). */
const MAX_SEGMENTS = 16;

export interface ConsoleRouteDeps {
  /** The console's build output (index.html, assets/): CONSOLE_DIR or `defaultConsoleDir()`. */
  dir: string;
}

/**
 * `apps/console/dist` of the repository this gateway runs from: the nearest directory up from
 * this file holding a package.json (the repository with tsx, /app in the image, beside dist/).
 */
export function defaultConsoleDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'apps', 'console', 'dist');
    if (dirname(dir) === dir) return resolve('apps', 'console', 'dist');
  }
}

/**
 * The console (issue 16): its static build at `/console/`, public (what it shows comes through
 * authenticated API calls), hidden from the OpenAPI document. Paths that are not files get
 * index.html (the app routes with the history API), except under `assets/`, where a missing
 * file is 404 rather than a page of the wrong type. Before it is built every path answers 503
 * with a page saying how to build it; whether it is built is checked at every request, so a
 * build made while the gateway runs is served at once.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRouteDeps> = async (app, { dir }) => {
  const root = resolve(dir);
  await app.register(fastifyStatic, {
    root,
    serve: false,
    suppressWarning: true,
    dotfiles: 'deny',
    cacheControl: false,
    // Files are only ever the build's: no directory listing, no index lookups.
    index: false,
  });
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(CONSOLE_HEADERS);
  });
  const route = {
    schema: { hide: true },
    config: { scope: 'public' as const },
    logLevel: 'warn' as const,
  };

  app.get(CONSOLE_PATH.slice(0, -1), route, async (req, reply) => {
    const query = req.url.indexOf('?');
    return reply.redirect(query < 0 ? CONSOLE_PATH : CONSOLE_PATH + req.url.slice(query), 301);
  });
  app.get(`${CONSOLE_PATH}*`, route, async (req, reply) => {
    const real = await realRoot(root);
    if (real === undefined || !(await isFile(join(real, 'index.html')))) {
      return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    }
    const segments = segmentsOf(req.url);
    if (segments === undefined) return notFound(req, reply);
    const relative = segments.join('/');
    if (relative !== '' && (await isFileWithin(real, relative))) {
      return sendBuilt(reply, relative, segments[0] === 'assets' && segments.length > 1);
    }
    if (segments[0] === 'assets') return notFound(req, reply);
    return sendBuilt(reply, 'index.html', false);
  });
};

function sendBuilt(reply: FastifyReply, file: string, hashed: boolean): FastifyReply {
  reply.header('cache-control', hashed ? IMMUTABLE : REVALIDATE);
  return reply.sendFile(file);
}

function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = req.url.split('?')[0] ?? '';
  return sendProblem(req, reply, new ApiError('ROUTE_NOT_FOUND', `no console file ${path}`), {
    instance: false,
  });
}

/**
 * The decoded segments of the path under /console/ (an empty list for /console/ itself), or
 * undefined when one is not a plain name (see SEGMENT). Read from the raw URL, each segment
 * decoded once by us: `%2e%2e`, `%2f`, `%5c` and `%00` are refused like what they decode to,
 * and a double-encoded one keeps its `%`, which no segment may hold.
 */
function segmentsOf(url: string): string[] | undefined {
  const query = url.indexOf('?');
  const path = (query < 0 ? url : url.slice(0, query)).slice(CONSOLE_PATH.length);
  if (path === '') return [];
  const raw = path.split('/');
  // A trailing slash names the same page as without it (`/console/workflows/`).
  if (raw[raw.length - 1] === '') raw.pop();
  if (raw.length > MAX_SEGMENTS) return undefined;
  const segments: string[] = [];
  for (const part of raw) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (!SEGMENT.test(decoded)) return undefined;
    segments.push(decoded);
  }
  return segments;
}

async function realRoot(root: string): Promise<string | undefined> {
  return realpath(root).catch(() => undefined);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** A regular file whose real path (symbolic links resolved) is inside `root`. */
async function isFileWithin(root: string, relative: string): Promise<boolean> {
  const real = await realpath(join(root, relative)).catch(() => undefined);
  if (real === undefined || !real.startsWith(root + sep)) return false;
  return isFile(real);
}
