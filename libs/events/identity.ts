// Identity: how events change a user's profile, and how an alias links two user keys.
//
// How ingest uses this (it owns the I/O; these functions are the decisions; docs/ingest.md):
// 1. Resolve: before partitioning, ingest reads `profiles[<encoded userKey>]`. When that entry is
//    an alias record (`{ aliasOf: <canonical userKey> }`), it replaces the event's userKey with
//    the canonical one, so every event of one person lands on one partition and one set of
//    instances (following at most a few hops).
// 2. Identify: `mergeTraits(profile, traitsForProfile(event))`, written back by CAS.
// 3. Alias: `aliasTarget(event)` gives { from: previousId, to: userId }. Ingest resolves `to`
//    (step 1), merges the two profiles with `mergeAliasedProfiles`, writes the result under
//    the canonical key, then writes `from` as an alias record pointing at it. Instances already
//    running under `from` stay there: journeys are keyed by the userKey they entered with.
import type { NormalizedEvent, Profile } from '../journey/index.js';

/**
 * A profile with `traits` merged in, Segment's way: shallow (a nested object replaces the stored
 * one whole), a trait set to `null` is stored as `null` (Segment: "it will be replaced by null,
 * but if you do not send that property, the original value is persisted"), and traits not sent
 * are kept. `undefined` (which JSON cannot carry) changes nothing. Inputs are not modified.
 */
export function mergeTraits(
  profile: Profile | undefined,
  traits: Record<string, unknown> | undefined,
): Profile {
  const merged: Record<string, unknown> = { ...profile?.traits };
  for (const [key, value] of Object.entries(traits ?? {})) {
    // defineProperty, not assignment: a trait named "__proto__" is data, not a prototype.
    if (value !== undefined)
      Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { traits: merged, audiences: [...(profile?.audiences ?? [])] };
}

/** The traits an event writes to its user's profile: an identify's traits only. A group's
 * traits describe the group, and track/page/screen/alias carry none. */
export function traitsForProfile(event: NormalizedEvent): Record<string, unknown> | undefined {
  return event.type === 'identify' ? event.traits : undefined;
}

/** What an alias event links: `from` (its previousId) becomes another name of `to` (its userId).
 * Undefined for other types, and for an alias of a key to itself, which links nothing. */
export function aliasTarget(event: NormalizedEvent): { from: string; to: string } | undefined {
  if (event.type !== 'alias' || event.userId === undefined) return undefined;
  const from = event.properties.previousId;
  if (typeof from !== 'string' || from === event.userId) return undefined;
  return { from, to: event.userId };
}

/** The profile of a user known under two keys: the canonical (`to`) traits win over the
 * previous key's, and audiences are the union (canonical first). */
export function mergeAliasedProfiles(previous: Profile | undefined, canonical: Profile | undefined): Profile {
  const merged = mergeTraits(previous, canonical?.traits);
  const audiences = [...(canonical?.audiences ?? [])];
  for (const audience of previous?.audiences ?? [])
    if (!audiences.includes(audience)) audiences.push(audience);
  return { traits: merged.traits, audiences };
}
