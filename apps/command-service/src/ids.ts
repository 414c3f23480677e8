import { randomFillSync } from 'node:crypto';

// Random bytes are drawn from a pool refilled 4 KiB at a time: one syscall per 409 ids.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function random10(): Buffer {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + 10);
  offset += 10;
  return out;
}

/**
 * RFC 9562 UUIDv7: 48-bit Unix milliseconds, version and variant bits, 74 random bits.
 * Time-ordered, so token ids sort by creation time.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = Buffer.allocUnsafe(16);
  // 48-bit big-endian milliseconds (split: bit operators are 32-bit).
  const high = Math.floor(now / 2 ** 32);
  bytes.writeUInt16BE(high & 0xffff, 0);
  bytes.writeUInt32BE(now >>> 0, 2);
  random10().copy(bytes, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
