import type { Scope } from '@cb/schemas';
import { HttpClient } from './http-client';

/**
 * Benchmarks run with authentication on, as users do: the root credential (`CB_ADMIN_KEY`, not
 * rate limited) and a tenant API key made through `POST /v1/admin/keys`, whose every request also
 * passes the rate limiter.
 */
export interface BenchCredentials {
  /** `Bearer <CB_ADMIN_KEY>`. */
  root: string;
  /** `Bearer cb_<id>_<secret>`: an API key of tenant `default` (where the root credential acts). */
  apiKey: string;
}

/**
 * A rate limit the benchmark never reaches (about 20 times what a 10 s run sends here), so every
 * request is served and the figure is the limiter's cost: leased blocks of the window's quota,
 * counted by CAS in NATS KV.
 */
export const BENCH_RATE_LIMIT = { requests: 5_000_000, windowSeconds: 60 } as const;

/** Create the benchmark's API key of tenant `default` with `scopes`, as the root credential. */
export async function benchCredentials(
  gatewayPort: number,
  root: { authorization: string },
  scopes: Scope[] = ['read', 'tokens:write', 'workflows:write'],
): Promise<BenchCredentials> {
  const http = new HttpClient(new URL(`http://127.0.0.1:${gatewayPort}`), 1, root);
  try {
    const res = await http.send('POST', '/v1/admin/keys', {
      tenant: 'default',
      name: 'bench',
      scopes,
      rateLimit: BENCH_RATE_LIMIT,
    });
    if (res.status !== 201) throw new Error(`creating the bench key: ${res.status} ${res.body}`);
    const { key } = JSON.parse(res.body) as { key: string };
    return { root: root.authorization, apiKey: `Bearer ${key}` };
  } finally {
    http.close();
  }
}
