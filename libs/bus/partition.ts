// User -> partition. The same FNV-1a 32-bit hash as NATS' `partition()` subject mapping
// (server/accounts.go getHashPartition), over UTF-8 bytes, so both agree on every key.

const encoder = new TextEncoder();

export function fnv1a32(input: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(input)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The partition of a user key: fnv1a32(userKey) mod partitions. */
export function partitionOf(userKey: string, partitions: number): number {
  return fnv1a32(userKey) % partitions;
}
