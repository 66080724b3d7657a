// KV `profiles`: `{ v: 1, traits, audiences }` under encodeKey(userKey), written by ingest (on
// identify, alias and audience events) and read by the matcher. An alias record is a profile
// with `aliasOf: <canonical userKey>`: both readers follow it here, one way.
import type { KvStore } from './lean.js';
import { z } from 'zod';

import { decodeValue, encodeKey, type ValueCodec } from './kv-cas.js';
import { BUCKETS } from './topology.js';

export const StoredProfileSchema = z.object({
  v: z.literal(1),
  traits: z.record(z.string(), z.unknown()),
  audiences: z.array(z.string()),
  /** Set on an alias record: the canonical userKey this key is another name of. */
  aliasOf: z.string().optional(),
  /** On an alias record: each link of this key, in stream order (`seq`: the EVENTS sequence of
   * the alias event that wrote it; `to`: the canonical userKey from then on). Before the first
   * link the key was its own user. An ingest shard reading the record from behind (it has not
   * reached those sequences yet) resolves by the links before its position, never by a later one. */
  aliasLinks: z.array(z.object({ seq: z.number().int(), to: z.string() })).optional(),
});
export type StoredProfile = z.output<typeof StoredProfileSchema>;

export const profileCodec: ValueCodec<StoredProfile> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => StoredProfileSchema.parse(JSON.parse(new TextDecoder().decode(bytes))),
};

/** Links kept on an alias record (the oldest are dropped first). */
export const MAX_ALIAS_LINKS = 16;

/**
 * What `profile` makes of its key for an event at stream sequence `seq`: the canonical userKey it
 * is another name of, or undefined when it is its own user there. A record without `aliasLinks`
 * (written before links existed) counts from the start of the stream.
 */
export function aliasAt(profile: StoredProfile | undefined, seq: number): string | undefined {
  if (profile?.aliasOf === undefined) return undefined;
  const links = profile.aliasLinks;
  if (links === undefined) return profile.aliasOf;
  let to: string | undefined;
  for (const link of links) if (link.seq < seq) to = link.to;
  return to;
}

/** Alias hops followed at most: ingest keeps chains one hop long, the rest is a safety bound. */
export const MAX_ALIAS_HOPS = 4;

export interface CanonicalProfile {
  /** The canonical userKey: `userKey` itself, or what its alias record points at. */
  userKey: string;
  /** Its stored profile, if any. */
  profile: StoredProfile | undefined;
}

/** Reads a user's profile, following alias records. */
export async function readCanonicalProfile(kv: KvStore, userKey: string): Promise<CanonicalProfile> {
  let key = userKey;
  for (let hop = 0; ; hop++) {
    const kvKey = encodeKey(key);
    const entry = await kv.get(kvKey);
    const profile =
      entry?.operation === 'PUT'
        ? decodeValue(profileCodec, BUCKETS.profiles, kvKey, entry.value)
        : undefined;
    if (profile?.aliasOf === undefined || profile.aliasOf === key || hop >= MAX_ALIAS_HOPS) {
      return { userKey: key, profile };
    }
    key = profile.aliasOf;
  }
}
