// KV `profiles`: `{ v: 1, traits, audiences }` under encodeKey(userKey). Ingest writes it (CAS,
// STYLE.md rule 7) on identify (traits, computed audiences), on `Audience Entered|Exited` (fed
// audiences) and on alias; the matcher only reads it.
// An alias record is a profile with `aliasOf: <canonical userKey>` (and nothing else): ingest
// replaces the userKey of every event keyed by the alias with the canonical one before routing,
// so both ids reach one profile, one partition and one set of instances. Readers that do not
// know `aliasOf` see an empty profile.
import {
  aliasAt,
  BUCKETS,
  casUpdate,
  decodeValue,
  encodeKey,
  MAX_ALIAS_LINKS,
  profileCodec,
  readCanonicalProfile,
  type StoredProfile,
  type KvStore,
} from '../../libs/bus/index.js';
import {
  applyAudienceChange,
  computeAudiences,
  mergeAliasedProfiles,
  mergeTraits,
  type AudienceChange,
  type ComputedAudience,
} from '../../libs/events/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';

type CasMetrics = Pick<Metrics, 'kvCasConflicts'>;

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The profile stored at `userKey` itself (no alias followed). */
async function readOwn(kv: KvStore, userKey: string): Promise<StoredProfile | undefined> {
  const key = encodeKey(userKey);
  const entry = await kv.get(key);
  return entry?.operation === 'PUT'
    ? decodeValue(profileCodec, BUCKETS.profiles, key, entry.value)
    : undefined;
}

/** The canonical userKey of `userKey`: itself, or what its alias record points at. */
export async function resolveUserKey(kv: KvStore, userKey: string): Promise<string> {
  return (await readCanonicalProfile(kv, userKey)).userKey;
}

function update(
  kv: KvStore,
  userKey: string,
  decide: (current: StoredProfile | undefined) => StoredProfile | undefined,
  metrics?: CasMetrics,
): Promise<StoredProfile | undefined> {
  return casUpdate<StoredProfile>(kv, encodeKey(userKey), decide, {
    codec: profileCodec,
    bucket: BUCKETS.profiles,
    ...(metrics ? { metrics } : {}),
  }).then((r) => r.value);
}

/** Merges `traits` into the user's profile and recomputes the computed audiences; writes nothing
 * when that changes nothing (a redelivered identify). */
export function mergeProfileTraits(
  kv: KvStore,
  userKey: string,
  traits: Record<string, unknown>,
  metrics?: CasMetrics,
  audiences: readonly ComputedAudience[] = [],
): Promise<StoredProfile | undefined> {
  return update(
    kv,
    userKey,
    (current) => {
      const merged = mergeTraits(current, traits);
      const next: StoredProfile = {
        v: 1,
        traits: merged.traits,
        audiences: computeAudiences(audiences, merged.traits, merged.audiences),
      };
      if (
        current &&
        JSON.stringify(current.traits) === JSON.stringify(next.traits) &&
        same(current.audiences, next.audiences)
      )
        return undefined;
      return next;
    },
    metrics,
  );
}

/** Enters or leaves a fed audience; writes nothing when the membership is already so. */
export function applyProfileAudience(
  kv: KvStore,
  userKey: string,
  change: AudienceChange,
  metrics?: CasMetrics,
): Promise<StoredProfile | undefined> {
  return update(
    kv,
    userKey,
    (current) => {
      const audiences = current?.audiences ?? [];
      const next = applyAudienceChange(audiences, change);
      if (current && next === audiences) return undefined;
      return { v: 1, traits: current?.traits ?? {}, audiences: [...next] };
    },
    metrics,
  );
}

/**
 * Links `from` (an alias event's previousId) to `canonical` (the canonical user of its userId at
 * the alias's stream sequence `seq`): `from`'s profile is merged into `canonical`'s (the canonical
 * traits win, audiences are the union), then `from` becomes an alias record pointing at it, with
 * the link `{ seq, to: canonical }` added to its links. Returns `canonical`, or undefined when the
 * link would be a cycle (`canonical` is `from` itself). Run by the ingest shard of `from`'s
 * partition, in stream order for `from`: the only writer of `from`'s key.
 */
export async function linkAlias(
  kv: KvStore,
  from: string,
  canonical: string,
  seq: number,
  metrics?: CasMetrics,
): Promise<string | undefined> {
  if (canonical === from) return undefined;
  const previous = await readOwn(kv, from);
  // A redelivered or repeated alias: the record already says so (nothing to merge or write).
  if (previous?.aliasOf === canonical) return canonical;
  if (previous && previous.aliasOf === undefined) {
    await update(
      kv,
      canonical,
      (current) => {
        const merged = mergeAliasedProfiles(previous, current);
        const next: StoredProfile = { v: 1, traits: merged.traits, audiences: merged.audiences };
        if (current && JSON.stringify(current) === JSON.stringify(next)) return undefined;
        return next;
      },
      metrics,
    );
  }
  await update(
    kv,
    from,
    (current) => {
      if (current?.aliasOf === canonical) return undefined;
      // A record from before links existed counts from the start of the stream.
      const before =
        current?.aliasLinks ?? (current?.aliasOf !== undefined ? [{ seq: 0, to: current.aliasOf }] : []);
      const aliasLinks = [...before.filter((l) => l.seq < seq), { seq, to: canonical }].slice(
        -MAX_ALIAS_LINKS,
      );
      return { v: 1, traits: {}, audiences: [], aliasOf: canonical, aliasLinks };
    },
    metrics,
  );
  return canonical;
}

/**
 * Whether the alias at stream sequence `seq` linking `from` to `canonical` is in `from`'s record:
 * the shard of `from`'s partition, which writes the record in stream order, has written a link at
 * or after `seq`, or the links before it already say `canonical` (the alias changes nothing). Another
 * shard holds the alias until then. (The aliases of `from` before `seq` are settled on that shard
 * already: they share a serialization key with this one.)
 */
export async function aliasLinked(
  kv: KvStore,
  from: string,
  seq: number,
  canonical: string,
): Promise<boolean> {
  const own = await readOwn(kv, from);
  if (own?.aliasLinks?.some((l) => l.seq >= seq)) return true;
  return aliasAt(own, seq + 1) === canonical;
}
