import { createHmac, timingSafeEqual } from 'node:crypto';
import { SCOPES, type Principal } from '@cb/schemas';
import { isRootKeyShape } from './credentials';
import { sha256 } from './sha256';

/** The root principal: every scope, keys of every tenant, data in tenant `default`. */
export const ROOT_PRINCIPAL: Principal = Object.freeze({
  tenant: 'default',
  keyId: 'root',
  scopes: Object.freeze([...SCOPES]) as Principal['scopes'],
  root: true,
});

/**
 * CB_ADMIN_KEY, held as its SHA-256 only. A presented credential is hashed to the same fixed
 * length and compared with `timingSafeEqual`, so neither its length nor its content shows in
 * the time taken.
 */
export class RootCredential {
  private readonly digest: Buffer;
  /**
   * Ties root sessions to this admin key: 64 bits of an HMAC of it, so a changed CB_ADMIN_KEY ends
   * the sessions the old one made without the sessions bucket holding anything that verifies it.
   */
  readonly tag: string;

  constructor(adminKey: string) {
    if (!isRootKeyShape(adminKey)) {
      throw new RangeError('CB_ADMIN_KEY must be 32 to 256 visible ASCII characters');
    }
    this.digest = sha256(adminKey);
    this.tag = createHmac('sha256', 'cb-root-session').update(adminKey).digest('hex').slice(0, 16);
  }

  matches(credential: string): boolean {
    return timingSafeEqual(sha256(credential), this.digest);
  }
}
