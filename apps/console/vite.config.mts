import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** `vite` / `vite preview` (development only) pass /v1 to this gateway. */
const gateway = process.env['CB_GATEWAY_URL'] ?? 'http://127.0.0.1:3000';
/** The gateway's policy on /console, so `vite preview` shows what it would break. */
const csp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The console is served by the gateway at /console/ (apps/query-gateway), so every asset URL
 * carries that base and a content hash (cached as immutable there). No inline script or style
 * goes into index.html: the gateway's Content-Security-Policy allows only 'self'.
 */
export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [preact({ devtoolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything inlined as data: URLs would still be fine under img-src data:, but scripts
    // and styles must be files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
  server: { proxy: { '/v1': gateway } },
  preview: { proxy: { '/v1': gateway }, headers: { 'content-security-policy': csp } },
});
