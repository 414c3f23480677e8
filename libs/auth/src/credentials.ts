import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from './sha256';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Length of an API key id (base62): ~95 bits, unique without coordination. */
export const KEY_ID_LENGTH = 16;
/** Length of an API key secret and a session secret (base62): ~190 bits of `crypto.randomBytes`. */
export const SECRET_LENGTH = 32;
/** An `Authorization` header longer than this is malformed before anything else is looked at. */
export const MAX_AUTHORIZATION_LENGTH = 512;
/** Bounds of CB_ADMIN_KEY: visible ASCII (0x21-0x7e), no spaces. */
export const ROOT_KEY_MIN_LENGTH = 32;
export const ROOT_KEY_MAX_LENGTH = 256;

export const API_KEY_PREFIX = 'cb_';
export const SESSION_PREFIX = 'cbs_';

const API_KEY = /^cb_([0-9A-Za-z]{16})_([0-9A-Za-z]{32})$/;
const SESSION = /^cbs_[0-9A-Za-z]{32}$/;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * `length` base62 characters from `crypto.randomBytes`, without modulo bias: bytes of 248 and
 * above (62 × 4 = 248) are dropped and drawn again.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new API key: `cb_<id>_<secret>`. The secret is never stored, only its hash. */
export interface MintedApiKey {
  id: string;
  secret: string;
  /** The bearer credential, shown once. */
  key: string;
}

export function mintApiKey(): MintedApiKey {
  const id = randomBase62(KEY_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return { id, secret, key: `${API_KEY_PREFIX}${id}_${secret}` };
}

/** A new session token, `cbs_<secret>`: opaque, stored only as its SHA-256. */
export function mintSessionToken(): string {
  return `${SESSION_PREFIX}${randomBase62(SECRET_LENGTH)}`;
}

/** What the credential of an `Authorization: Bearer` header is, by its shape alone. */
export type ParsedCredential =
  | { kind: 'key'; id: string; secret: string }
  | { kind: 'session'; token: string }
  /** Neither shape: it can only be the root credential (CB_ADMIN_KEY). */
  | { kind: 'other'; credential: string };

export type HeaderFailure = 'missing' | 'malformed';

/**
 * The credential of an `Authorization` header, checked strictly (scheme, length, alphabet)
 * before any lookup. `cb_`/`cbs_` credentials must have exactly their shape; anything else
 * that could be a root credential is `other`.
 */
export function parseAuthorization(
  header: string | string[] | undefined,
): { ok: true; credential: string } | { ok: false; reason: HeaderFailure } {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  if (typeof header !== 'string' || header.length > MAX_AUTHORIZATION_LENGTH) {
    return { ok: false, reason: 'malformed' };
  }
  const match = BEARER.exec(header);
  return match ? { ok: true, credential: match[1] as string } : { ok: false, reason: 'malformed' };
}

export function parseCredential(credential: string): ParsedCredential | null {
  if (credential.startsWith(SESSION_PREFIX)) {
    return SESSION.test(credential) ? { kind: 'session', token: credential } : null;
  }
  if (credential.startsWith(API_KEY_PREFIX)) {
    const m = API_KEY.exec(credential);
    return m ? { kind: 'key', id: m[1] as string, secret: m[2] as string } : null;
  }
  return isRootKeyShape(credential) ? { kind: 'other', credential } : null;
}

/** Whether a string can be CB_ADMIN_KEY: 32-256 visible ASCII characters. */
export function isRootKeyShape(value: string): boolean {
  return (
    value.length >= ROOT_KEY_MIN_LENGTH &&
    value.length <= ROOT_KEY_MAX_LENGTH &&
    VISIBLE_ASCII.test(value)
  );
}

/**
 * The stored form of an API key secret: HMAC-SHA256 keyed with the server-side pepper
 * (CB_KEY_PEPPER) when one is configured, else SHA-256; lowercase hex. Secrets carry ~190
 * random bits, so a fast hash is enough; the pepper makes a stolen bucket useless without it.
 */
export function hashSecret(secret: string, pepper?: string): string {
  return pepper ? createHmac('sha256', pepper).update(secret).digest('hex') : sha256Hex(secret);
}

/** The key a session is stored under: the SHA-256 hex of its token. */
export function sessionDigest(token: string): string {
  return sha256Hex(token);
}

/** Constant-time equality of two hex digests of the same length (false when lengths differ). */
export function digestsEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
