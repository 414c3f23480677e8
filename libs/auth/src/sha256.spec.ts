import { createHash } from 'node:crypto';
import { sha256, sha256Hex } from './sha256';

describe('sha256', () => {
  it('is SHA-256 of the UTF-8 bytes (FIPS 180-2 vector, and what createHash gives)', () => {
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    for (const value of ['', 'cb_0123456789abcdef_secret', 'é€😀', 'x'.repeat(300)]) {
      expect(sha256(value)).toEqual(createHash('sha256').update(value, 'utf8').digest());
    }
  });
});
