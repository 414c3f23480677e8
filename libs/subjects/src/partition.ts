const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `value`. Stable across processes, versions and
 * platforms: partition assignment of existing tokens depends on it never changing.
 */
export function fnv1a32(value: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** The partition of a token: `fnv1a32(tokenId) mod partitions`. */
export function partitionOf(tokenId: string, partitions: number): number {
  return fnv1a32(tokenId) % partitions;
}
