// eslint-disable-next-line @nx/enforce-module-boundaries -- the document is built from the gateway's own routes
import { appWithoutNats } from '../../apps/query-gateway/src/testing/app-without-nats';

/** The OpenAPI document as the gateway serves it at /openapi.json, built from its routes. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const app = appWithoutNats();
  try {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
    return res.json<Record<string, unknown>>();
  } finally {
    await app.close();
  }
}

/** The document as committed: two-space JSON and a final newline. */
export function formatDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
