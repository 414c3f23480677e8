import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isBlockedAddress } from './blocked-address';
import { OutboundRefusedError } from './errors';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request`/`https.request` (and `net.connect`) that refuses to hand out a
 * blocked address, so the address a request really connects to is the one that was checked: a
 * name re-resolved between a check and the connect (DNS rebinding) cannot reach a private
 * network. Every resolved address must be allowed, not only the one that would be used. Literal IP
 * hosts never reach a lookup: check them before the request (`checkTargetUrl` does).
 * With `allowPrivate` it is plain `dns.lookup`.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  const lookup = (
    hostname: string,
    options: { family?: number | string; hints?: number; all?: boolean },
    callback: LookupCallback,
  ): void => {
    const all: LookupAllOptions = { ...options, family: familyOf(options.family), all: true };
    dnsLookup(hostname, all, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate) {
        const blocked = addresses.filter((a) => isBlockedAddress(a.address)).map((a) => a.address);
        if (blocked.length > 0) {
          const refusal = new OutboundRefusedError(
            `${hostname} resolves to a blocked address (${blocked.join(', ')})`,
            blocked,
          );
          return callback(refusal as NodeJS.ErrnoException, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(
          Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }),
          [],
        );
      callback(null, first.address, first.family);
    });
  };
  return lookup as unknown as LookupFunction;
}

function familyOf(family: number | string | undefined): number {
  if (family === 'IPv4' || family === 4) return 4;
  if (family === 'IPv6' || family === 6) return 6;
  return 0;
}
