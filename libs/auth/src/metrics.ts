import { Counter, type Registry } from 'prom-client';

export interface AuthMetrics {
  failures: Counter<'reason'>;
  cache: Counter<'kind' | 'result'>;
}

/** The authenticator's counters. No tenant, key or address in any label. */
export function authMetrics(registry: Registry): AuthMetrics {
  return {
    failures: counter(registry, {
      name: 'cb_auth_failures_total',
      help: 'Refused credentials by reason (missing, malformed, unknown, expired, revoked)',
      labelNames: ['reason'],
    }),
    cache: counter(registry, {
      name: 'cb_auth_cache_lookups_total',
      help: 'Credential validations served from memory (hit) or read from NATS KV (miss), by kind',
      labelNames: ['kind', 'result'],
    }),
  };
}

export interface RateLimitMetrics {
  decisions: Counter<'outcome'>;
  nats: Counter<'op'>;
}

export function rateLimitMetrics(registry: Registry): RateLimitMetrics {
  return {
    decisions: counter(registry, {
      name: 'cb_rate_limit_decisions_total',
      help: 'Rate-limited requests by outcome (allowed, limited)',
      labelNames: ['outcome'],
    }),
    nats: counter(registry, {
      name: 'cb_rate_limit_nats_requests_total',
      help: 'NATS requests of the rate limiter by operation (create, update, get, return)',
      labelNames: ['op'],
    }),
  };
}

/** A counter on the registry, or the one already there (two components may share a registry). */
function counter<L extends string>(
  registry: Registry,
  config: { name: string; help: string; labelNames: L[] },
): Counter<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Counter<L>;
  return new Counter({ ...config, registers: [registry] });
}
