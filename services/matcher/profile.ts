// The profile a journey reads (traits and audiences, libs/bus profiles): written by ingest, only
// read here. An alias record is followed to the canonical profile, so an instance started under
// an anonymous id that was later aliased still reads the person's current traits and audiences
// at send time. A user without one has an empty profile. It is read only when the journey
// version an input is applied with reads it (`readsProfile`, known at compile time), and at most
// once per input.

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

/** The user's profile, read on first call and shared by the journeys one input is applied to. */
export type ProfileSource = () => Promise<Profile>;

export function profileSource(kv: KvStore, userKey: string): ProfileSource {
  let read: Promise<Profile> | undefined;
  return () => (read ??= readProfile(kv, userKey));
}
