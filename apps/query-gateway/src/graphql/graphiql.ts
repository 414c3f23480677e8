import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

/** GraphiQL's page; its scripts and styles are under ASSETS, all served from node_modules. */
export const GRAPHIQL_PATH = '/graphiql';
const ASSETS = `${GRAPHIQL_PATH}/assets`;

/**
 * Only the gateway's own files run or load (no CDN, no inline script). Styles allow inline
 * ones: GraphiQL's editor (CodeMirror) sets style attributes and elements as it renders.
 */
export const GRAPHIQL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** Starts GraphiQL against /graphql; the credential goes in its Headers tab. */
const INIT = `'use strict';
(function () {
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: 'headers',
      defaultHeaders: '{\\n  "Authorization": "Bearer <your API key>"\\n}',
      shouldPersistHeaders: false,
    }),
  );
})();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Circuit Breaker GraphiQL</title>
<link rel="stylesheet" href="${ASSETS}/graphiql.css">
<link rel="stylesheet" href="${ASSETS}/page.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${ASSETS}/react.js"></script>
<script src="${ASSETS}/react-dom.js"></script>
<script src="${ASSETS}/graphiql.js"></script>
<script src="${ASSETS}/init.js"></script>
</body>
</html>
`;

const PAGE_CSS = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

interface Asset {
  type: string;
  body: string | Buffer;
}

/**
 * A file of an installed package. Resolved from the package's entry point: the UMD builds are
 * not in the packages' `exports`, so `require.resolve('react/umd/…')` is refused.
 */
function moduleFile(pkg: string, file: string): Buffer {
  for (let dir = dirname(require.resolve(pkg)); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === pkg
    ) {
      return readFileSync(join(dir, file));
    }
  }
  throw new Error(`package ${pkg} not found`);
}

/** Read once, at registration: the files of the installed packages, pinned by package.json. */
function loadAssets(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  return new Map<string, Asset>([
    ['react.js', { type: js, body: moduleFile('react', 'umd/react.production.min.js') }],
    [
      'react-dom.js',
      { type: js, body: moduleFile('react-dom', 'umd/react-dom.production.min.js') },
    ],
    ['graphiql.js', { type: js, body: moduleFile('graphiql', 'graphiql.min.js') }],
    [
      'graphiql.css',
      { type: 'text/css; charset=utf-8', body: moduleFile('graphiql', 'graphiql.min.css') },
    ],
    ['page.css', { type: 'text/css; charset=utf-8', body: PAGE_CSS }],
    ['init.js', { type: js, body: INIT }],
  ]);
}

/**
 * GraphiQL at `/graphiql` (issue 17), public like the console (what it shows comes through
 * authenticated `/graphql` calls), hidden from the OpenAPI document.
 */
export const graphiqlRoutes: FastifyPluginAsync = async (app) => {
  const assets = loadAssets();
  app.get(
    GRAPHIQL_PATH,
    { config: { scope: 'public' }, schema: { hide: true } },
    async (_req, reply) =>
      reply
        .headers(GRAPHIQL_HEADERS)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .send(PAGE),
  );
  app.get<{ Params: { name: string } }>(
    `${ASSETS}/:name`,
    { config: { scope: 'public' }, schema: { hide: true } },
    async (req, reply) => {
      const asset = assets.get(req.params.name);
      if (asset === undefined) return reply.callNotFound();
      return reply
        .headers(GRAPHIQL_HEADERS)
        .header('cache-control', 'public, max-age=3600')
        .type(asset.type)
        .send(asset.body);
    },
  );
};
