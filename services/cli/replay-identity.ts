// Who an event in a replay belongs to, and the profile a journey reads of them.
// Identity: as ingest routes (services/ingest/identity-order.ts), an event goes to the canonical
// user of its userKey at its stream sequence: the aliases of the window before it, then the links
// stored in KV `profiles` before that sequence (`aliasAt`). Profiles: "as they are now", read
// from KV `profiles` (following alias records, as the matcher does) the first time a user is met,
// kept in a cache bounded in size (least recently used out first), with the identify traits of
// the window merged in as they come. `--no-profiles`: no KV read; every user starts empty.
// A bucket of PROFILE_CACHE_SIZE entries at most has its keys listed once at the start: a user
// with no stored record (most of an anonymous audience) then costs no read at all.
import type { KV } from '@nats-io/kv';

import {
  aliasAt,
  encodeKey,
  MAX_ALIAS_HOPS,
  profileCodec,
  type KvStore,
  type StoredProfile,
} from '../../libs/bus/index.js';
import type { Profile } from '../../libs/journey/index.js';

/** Users whose record and profile are kept in memory at once. */
export const PROFILE_CACHE_SIZE = 100_000;

type Record_ = StoredProfile | null;

/**
 * The keys (as stored: encodeKey) of KV `profiles` when it holds `limit` entries at most, else
 * undefined. A key written after the listing is read as absent: profiles are as they were when
 * the replay began.
 */
export async function storedProfileKeys(
  kv: KV,
  limit = PROFILE_CACHE_SIZE,
): Promise<Set<string> | undefined> {
  const status = await kv.status();
  // Values count every stored entry (history and delete markers too): an upper bound of the keys.
  if (status.values > limit) return undefined;
  const keys = new Set<string>();
  if (status.values === 0) return keys;
  for await (const key of await kv.keys()) keys.add(key);
  return keys;
}

export class ReplayIdentity {
  /** Each key's stored record (null: none), least recently used first. */
  private readonly records = new Map<string, Record_>();
  private readonly reading = new Map<string, Promise<Record_>>();
  /** The profile each user's inputs read (and identify traits merge into). */
  private readonly profiles = new Map<string, Profile>();
  /** Aliases met in the window: previousId -> links in stream order. */
  private readonly links = new Map<string, Array<{ seq: number; to: string }>>();

  constructor(
    /** KV `profiles`; undefined with --no-profiles. */
    private readonly kv: KvStore | undefined,
    private readonly cacheSize = PROFILE_CACHE_SIZE,
    /** The keys KV `profiles` held at the start (storedProfileKeys), when listed: no read for others. */
    private readonly stored?: ReadonlySet<string>,
  ) {}

  /** Whether the records the next resolve of `keys` needs are in memory (no await needed). */
  ready(keys: readonly string[]): boolean {
    if (!this.kv) return true;
    return keys.every((k) => this.records.has(k) || this.knownAbsent(k));
  }

  /** Reads the records of `keys` not in memory (concurrent callers share a read). */
  load(keys: readonly string[]): Promise<unknown> {
    if (!this.kv) return Promise.resolve();
    return Promise.all(keys.map((k) => Promise.resolve(this.record(k))));
  }

  /** The canonical user of `userKey` at stream sequence `seq`. */
  async canonicalAt(seq: number, userKey: string): Promise<string> {
    let key = userKey;
    for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
      const next = this.windowLinkAt(key, seq) ?? aliasAt((await this.record(key)) ?? undefined, seq);
      if (next === undefined || next === key) return key;
      key = next;
    }
    return key;
  }

  /** canonicalAt when the records it needs are in memory; undefined when one must be read. */
  canonicalNow(seq: number, userKey: string): string | undefined {
    let key = userKey;
    for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
      let next = this.windowLinkAt(key, seq);
      if (next === undefined) {
        const record = this.record(key);
        if (record instanceof Promise) return undefined;
        next = aliasAt(record ?? undefined, seq);
      }
      if (next === undefined || next === key) return key;
      key = next;
    }
    return key;
  }

  /** An alias at `seq` linking `from` to the canonical user `canonical` (as linkAlias writes it). */
  link(from: string, canonical: string, seq: number): void {
    if (canonical === from) return;
    const list = this.links.get(from) ?? [];
    list.push({ seq, to: canonical });
    this.links.set(from, list);
  }

  /** Makes the profile of `userKey` ready for profileOf (reads KV when it is not in memory). */
  async prepareProfile(userKey: string): Promise<void> {
    if (this.profiles.has(userKey)) return;
    let profile: Profile = { traits: {}, audiences: [] };
    if (this.kv) {
      // As the matcher reads it now: following alias records to the canonical one.
      let key = userKey;
      for (let hop = 0; ; hop++) {
        const record = await this.record(key);
        if (record?.aliasOf === undefined || record.aliasOf === key || hop >= MAX_ALIAS_HOPS) {
          if (record && (record.aliasOf ?? key) === key) {
            profile = { traits: { ...record.traits }, audiences: [...record.audiences] };
          }
          break;
        }
        key = record.aliasOf;
      }
    }
    this.profiles.set(userKey, profile);
    if (this.profiles.size > this.cacheSize) this.profiles.delete(this.profiles.keys().next().value!);
  }

  /** The profile of a user prepared before (an empty one when it was dropped meanwhile). */
  profileOf(userKey: string): Profile {
    const profile = this.profiles.get(userKey);
    if (profile) {
      this.profiles.delete(userKey);
      this.profiles.set(userKey, profile);
      return profile;
    }
    const fresh: Profile = { traits: {}, audiences: [] };
    this.profiles.set(userKey, fresh);
    return fresh;
  }

  hasProfile(userKey: string): boolean {
    return this.profiles.has(userKey);
  }

  private windowLinkAt(key: string, seq: number): string | undefined {
    const list = this.links.get(key);
    if (!list) return undefined;
    let to: string | undefined;
    for (const link of list) if (link.seq < seq) to = link.to;
    return to;
  }

  private record(key: string): Promise<Record_> | Record_ {
    const kept = this.records.get(key);
    if (kept !== undefined) return kept;
    if (!this.kv) return null;
    const reading = this.reading.get(key);
    if (reading) return reading;
    if (this.knownAbsent(key)) return null;
    const read = this.kv.get(encodeKey(key)).then((entry): Record_ => {
      this.reading.delete(key);
      let value: Record_ = null;
      if (entry?.operation === 'PUT') {
        try {
          value = profileCodec.decode(entry.value);
        } catch {
          // Not a profile the matcher could read either: an empty one.
        }
      }
      return this.remember(key, value);
    });
    this.reading.set(key, read);
    return read;
  }

  /** With the keys listed, a key not among them has no record: remembered so, without a read. */
  private knownAbsent(key: string): boolean {
    if (this.stored === undefined || this.stored.has(encodeKey(key))) return false;
    this.remember(key, null);
    return true;
  }

  private remember(key: string, value: Record_): Record_ {
    this.records.set(key, value);
    if (this.records.size > this.cacheSize) this.records.delete(this.records.keys().next().value!);
    return value;
  }
}
