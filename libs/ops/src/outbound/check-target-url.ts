import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isBlockedAddress } from './blocked-address';
import type { OutboundRefusalCode } from './errors';

/** Longest target URL accepted (the webhook schema has the same bound). */
export const MAX_TARGET_URL_LENGTH = 2048;
/** A resolver that does not answer within this is taken as a refusal, not waited for. */
const DEFAULT_LOOKUP_TIMEOUT_MS = 5000;

export type TargetCheck = { ok: true } | { ok: false; code: OutboundRefusalCode; reason: string };

/** Resolves every address of a host name (the shape of `dns.promises.lookup(host, { all: true })`). */
export type ResolveAll = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface CheckTargetOptions {
  /** `WEBHOOK_ALLOW_PRIVATE_NETWORKS`: skip the address checks (local receivers in tests, on-premise). */
  allowPrivate: boolean;
  /** Resolver, `dns.lookup` with `all: true` by default (tests pass their own). */
  lookup?: ResolveAll;
  lookupTimeoutMs?: number;
}

const defaultResolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

const invalid = (reason: string): TargetCheck => ({
  ok: false,
  code: 'WEBHOOK_URL_INVALID',
  reason,
});
const refused = (reason: string): TargetCheck => ({
  ok: false,
  code: 'WEBHOOK_TARGET_REFUSED',
  reason,
});

/**
 * Whether the platform may send requests to `url`: an absolute http(s) URL without credentials,
 * at most 2048 characters, whose host is not (and does not resolve to) a blocked address. Every
 * address a name resolves to is checked, since a client may connect to any of them. Run it when a
 * target is registered and again before each request; pair it with `guardedLookup` so the
 * address connected to is checked too.
 */
export async function checkTargetUrl(
  url: string,
  options: CheckTargetOptions,
): Promise<TargetCheck> {
  if (typeof url !== 'string' || url.length === 0) return invalid('the URL is empty');
  if (url.length > MAX_TARGET_URL_LENGTH)
    return invalid(`the URL is longer than ${MAX_TARGET_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalid('not an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return invalid(`scheme ${parsed.protocol.slice(0, -1)} is not allowed (http or https only)`);
  if (parsed.username !== '' || parsed.password !== '')
    return invalid('credentials in the URL are not allowed (use the signature to authenticate)');
  const host = hostOf(parsed);
  if (host === '') return invalid('the URL has no host');
  if (options.allowPrivate) return { ok: true };

  if (isIP(host) !== 0)
    return isBlockedAddress(host)
      ? refused(`${host} is a private or reserved address`)
      : { ok: true };
  if (host === 'localhost' || host.endsWith('.localhost'))
    return refused(`${host} is the local host`);

  let addresses: readonly LookupAddress[];
  try {
    addresses = await withTimeout(
      (options.lookup ?? defaultResolveAll)(host),
      options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return refused(`${host} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  if (addresses.length === 0) return refused(`${host} does not resolve`);
  const blocked = addresses.filter((a) => isBlockedAddress(a.address)).map((a) => a.address);
  if (blocked.length > 0)
    return refused(`${host} resolves to a private or reserved address (${blocked.join(', ')})`);
  return { ok: true };
}

/** The host without IPv6 brackets or a trailing root dot (`localhost.` is `localhost`). */
function hostOf(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
