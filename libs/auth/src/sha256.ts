import * as crypto from 'node:crypto';

/**
 * SHA-256 of a string in one call. Every request hashes its credential (the root check, then an
 * API key's secret): `crypto.hash` (Node ≥ 20.12) computes it without the Hash object, its stream
 * machinery and its `update`/`digest` round trips that `createHash` builds each time — in the
 * gateway's profile under load that object was the largest single cost of Node's own. Node
 * 20.10–20.11 (still in `engines`) have no `crypto.hash` and take the long way.
 */
const oneShot: ((value: string) => Buffer) | undefined =
  typeof crypto.hash === 'function' ? (value) => crypto.hash('sha256', value, 'buffer') : undefined;

export function sha256(value: string): Buffer {
  return oneShot ? oneShot(value) : crypto.createHash('sha256').update(value).digest();
}

/** The lowercase hex of `sha256(value)`. */
export function sha256Hex(value: string): string {
  return sha256(value).toString('hex');
}
