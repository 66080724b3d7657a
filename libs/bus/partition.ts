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

/**
 * Why a message does not belong on the partition its subject names (`match.<p>.*`,
 * `deliver.<p>`): every input of a user is routed to partitionOf(userKey), so one that arrived
 * elsewhere was not routed by Cairn (a forged or misrouted message) and is not acted on.
 * Undefined when it belongs.
 */
export function misrouted(subject: string, userKey: string, partitions: number): string | undefined {
  const p = Number(subject.split('.')[1]);
  const expected = partitionOf(userKey, partitions);
  if (Number.isInteger(p) && p === expected) return undefined;
  return `${subject}: its user hashes to partition ${expected} of ${partitions}, not this one`;
}
