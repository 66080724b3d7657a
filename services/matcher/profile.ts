// The profile a journey reads (traits and audiences, libs/bus profiles): written by ingest, only
// read here. An alias record is followed to the canonical profile, so an instance started under
// an anonymous id that was later aliased still reads the person's current traits and audiences
// at send time. A user without one has an empty profile.

import { readCanonicalProfile, type KvStore } from '../../libs/bus/index.js';
import type { Profile } from '../../libs/journey/index.js';

export const EMPTY_PROFILE: Profile = { traits: {}, audiences: [] };

export async function readProfile(kv: KvStore, userKey: string): Promise<Profile> {
  const canonical = await readCanonicalProfile(kv, userKey);
  const { profile } = canonical;
  // Still an alias record: the chain was longer than MAX_ALIAS_HOPS.
  if (profile === undefined || (profile.aliasOf ?? canonical.userKey) !== canonical.userKey) {
    return EMPTY_PROFILE;
  }
  return { traits: profile.traits, audiences: profile.audiences };
}
