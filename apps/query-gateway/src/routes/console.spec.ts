import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../app-type';
import { TEST_ADMIN_HEADERS, appWithoutNats } from '../testing/app-without-nats';
import { CONSOLE_HEADERS, NOT_BUILT_MESSAGE, defaultConsoleDir } from './console';

/**
 * The console's static files (issue 16, deliverable 1), served from a build made here: a
 * directory with index.html and a hashed asset, beside a file no request may reach.
 */

const INDEX =
  '<!doctype html><html><head><script type="module" src="/console/assets/index-AbC_12-x.js"></script></head><body></body></html>';
const SCRIPT = 'console.log("console");';
const SECRET = 'the-file-outside-the-build';

let base: string;
let dist: string;
let app: App;
let url: string;

/** GET (or `method`) with the path sent exactly as given: no client normalises `..` away. */
function raw(
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectConsoleHeaders(headers: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) {
    expect({ name, value: headers[name] }).toEqual({ name, value });
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'cb-console-'));
  dist = join(base, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(base, 'package.json'), SECRET);
  writeFileSync(join(base, 'secret.txt'), SECRET);
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dist, 'assets', 'index-AbC_12-x.js'), SCRIPT);
  writeFileSync(join(dist, '.env'), SECRET);
  // A link out of the build: never followed out of it.
  symlinkSync(join(base, 'secret.txt'), join(dist, 'assets', 'linked.js'));
  app = appWithoutNats({ consoleDir: dist });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  rmSync(base, { recursive: true, force: true });
});

describe('the console at /console', () => {
  it('redirects /console to /console/, keeping the query', async () => {
    const res = await app.inject({ url: '/console' });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('/console/');
    const withQuery = await app.inject({ url: '/console?x=1' });
    expect(withQuery.headers.location).toBe('/console/?x=1');
    expectConsoleHeaders(res.headers);
  });

  it('answers index.html at /console/ with the CSP and security headers, revalidated', async () => {
    const res = await app.inject({ url: '/console/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toBeDefined();
    expectConsoleHeaders(res.headers);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe');
  });

  it('caches hashed assets for a year, immutable; other files are revalidated', async () => {
    const asset = await app.inject({ url: '/console/assets/index-AbC_12-x.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe(SCRIPT);
    expectConsoleHeaders(asset.headers);
    const icon = await app.inject({ url: '/console/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers 304 to a revalidation with the ETag', async () => {
    const first = await app.inject({ url: '/console/' });
    const again = await app.inject({
      url: '/console/',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers index.html for the app routes (SPA fallback), not for missing assets', async () => {
    for (const path of [
      '/console/sign-in',
      '/console/workflows/order-processing',
      '/console/workflows/wf_1/places/review/',
      '/console/workflows/wf-1/tokens/tok-9?place=x',
      '/console/definitions/new',
    ]) {
      const res = await app.inject({ url: path });
      expect({ path, status: res.statusCode, body: res.body }).toEqual({
        path,
        status: 200,
        body: INDEX,
      });
      expect(res.headers['cache-control']).toBe('no-cache');
      expectConsoleHeaders(res.headers);
    }
    const missing = await app.inject({ url: '/console/assets/index-gone.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    expectConsoleHeaders(missing.headers);
  });

  it('refuses path traversal, plain or encoded, with 404 and never a file outside the build', async () => {
    for (const path of [
      '/console/../package.json',
      '/console/../secret.txt',
      '/console/assets/../../package.json',
      '/console/%2e%2e/package.json',
      '/console/%2E%2E/secret.txt',
      '/console/..%2fpackage.json',
      '/console/%2e%2e%2fpackage.json',
      '/console/assets/..%2f..%2fpackage.json',
      '/console/..%5cpackage.json',
      '/console/%252e%252e/package.json',
      '/console/%2fetc%2fpasswd',
      '/console//etc/passwd',
      '/console/./index.html',
      '/console/index.html%00.js',
      '/console/.env',
      '/console/%2eenv',
    ]) {
      const res = await raw(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain(SECRET);
      expectConsoleHeaders(res.headers);
    }
    // Not a URL at all: the router's own 400, a problem like the others.
    const malformed = await raw('/console/%zz');
    expect(malformed.status).toBe(400);
    const linked = await raw('/console/assets/linked.js');
    expect(linked.status).toBe(404);
    expect(linked.body).not.toContain(SECRET);
  });

  it('answers HEAD like GET without a body', async () => {
    const index = await raw('/console/', 'HEAD');
    expect(index.status).toBe(200);
    expect(index.body).toBe('');
    expect(index.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
    expectConsoleHeaders(index.headers);
    const asset = await raw('/console/assets/index-AbC_12-x.js', 'HEAD');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const fallback = await raw('/console/workflows/x', 'HEAD');
    expect(fallback.status).toBe(200);
  });

  it('needs no credential, and ignores a bad one', async () => {
    const res = await app.inject({
      url: '/console/',
      headers: { authorization: 'Bearer not-a-credential' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('answers other methods 405 with Allow', async () => {
    const res = await app.inject({ method: 'POST', url: '/console/', payload: {} });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain('GET');
  });

  it('leaves /v1 needing a credential', async () => {
    const anonymous = await app.inject({ url: '/v1/sessions/current' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const root = await app.inject({ url: '/v1/keys', headers: TEST_ADMIN_HEADERS });
    expect(root.statusCode).not.toBe(401);
  });

  it('is not in the OpenAPI document', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });
});

describe('the console before it is built', () => {
  let empty: string;
  let bare: App;

  beforeAll(() => {
    empty = mkdtempSync(join(tmpdir(), 'cb-console-unbuilt-'));
    bare = appWithoutNats({ consoleDir: join(empty, 'dist') });
  });

  afterAll(async () => {
    await bare.close();
    rmSync(empty, { recursive: true, force: true });
  });

  it('answers 503 with a page saying how to build it, at every path', async () => {
    for (const path of ['/console/', '/console/workflows/x', '/console/assets/index-AbC.js']) {
      const res = await bare.inject({ url: path });
      expect({ path, status: res.statusCode }).toEqual({ path, status: 503 });
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain(NOT_BUILT_MESSAGE);
      expectConsoleHeaders(res.headers);
    }
  });

  it('serves the build as soon as it appears', async () => {
    mkdirSync(join(empty, 'dist'));
    writeFileSync(join(empty, 'dist', 'index.html'), INDEX);
    const res = await bare.inject({ url: '/console/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
  });
});

describe('defaultConsoleDir', () => {
  it('is apps/console/dist of the repository, from the sources or from a bundle', () => {
    const root = join(__dirname, '..', '..', '..', '..');
    expect(defaultConsoleDir()).toBe(join(root, 'apps', 'console', 'dist'));
    expect(defaultConsoleDir(join(root, 'dist', 'apps', 'query-gateway'))).toBe(
      join(root, 'apps', 'console', 'dist'),
    );
  });
});
