// One person's events run in stream order across an alias (DESIGN.md §5.2). Ingest serializes
// events by their canonical user — the key they are routed by — not by the id they carry, so that
// an event of an anonymous id and an event of the user it was aliased to never overtake each
// other. The canonical user of each event is resolved when it arrives, in stream order: from KV
// `profiles` (alias records), and from the aliases that arrived before it and are not applied
// yet. An alias holds the keys of both users it links: the events of either before it finish
// first, the events of either after it wait for it.
// The answer depends only on the stream before the event, never on how far other ingest shards
// have got: an alias record lists its links with the sequence of the alias that made each, and a
// link at or after the event's own sequence does not count for it (profiles.ts aliasAt).
// Each key's record is read once and kept (up to RECORD_CACHE_SIZE, least recently used first out):
// a record can only change by an alias of that key, which arrives here too and is pending until it
// settles (by then its link is stored); its settling drops the kept record.
import {
  aliasAt,
  encodeKey,
  MAX_ALIAS_HOPS,
  profileCodec,
  type KvStore,
  type StoredProfile,
} from '../../libs/bus/index.js';

/** Profile records (alias links) kept in memory. */
export const RECORD_CACHE_SIZE = 50_000;

type Read = StoredProfile | null | 'unreadable';

interface PendingAlias {
  seq: number;
  /** The canonical user `from` becomes once applied; undefined when it links nothing. */
  target: Promise<string | undefined>;
}

export interface ArrivalIdentity {
  /** Serialization keys: the canonical user, or for an alias both users it links. */
  keys: string[];
  /** The userKey the event is routed by. */
  canonical: string;
}

export const userKeyOf = (canonical: string): string => `u:${canonical}`;

export class IdentityOrder {
  private readonly pending = new Map<string, PendingAlias[]>();
  private readonly aliasFrom = new Map<number, string>();
  private readonly canonicals = new Map<number, string>();
  /** Each key's record (null: none), as read; an alias of the key drops it when it settles. */
  private readonly records = new Map<string, StoredProfile | null>();
  private readonly reading = new Map<string, Promise<Read>>();

  constructor(
    private readonly profiles: KvStore,
    private readonly cacheSize = RECORD_CACHE_SIZE,
  ) {}

  /**
   * The keys of message `seq` carrying `userKey` (and, for an alias, linking `alias.from` to
   * `alias.to`). Call in arrival order: an alias counts for the messages that arrive after it.
   */
  resolve(seq: number, userKey: string, alias?: { from: string; to: string }): Promise<ArrivalIdentity> {
    if (!alias) {
      return this.canonicalAt(seq, userKey).then((canonical) => {
        this.canonicals.set(seq, canonical);
        return { keys: [userKeyOf(canonical)], canonical };
      });
    }
    const from = this.canonicalAt(seq, alias.from);
    const to = this.canonicalAt(seq, alias.to);
    // As linkAlias decides: no link when `to` already is another name of `from`.
    const target = to.then(
      (c) => (c === alias.from ? undefined : c),
      () => undefined,
    );
    const list = this.pending.get(alias.from) ?? [];
    list.push({ seq, target });
    this.pending.set(alias.from, list);
    this.aliasFrom.set(seq, alias.from);
    return Promise.all([from, to]).then(([f, t]) => {
      this.canonicals.set(seq, t);
      return { keys: [userKeyOf(f), userKeyOf(t)], canonical: t };
    });
  }

  /** The canonical user resolved on arrival, while the message is in flight. */
  canonicalOf(seq: number): string | undefined {
    return this.canonicals.get(seq);
  }

  /** The runner is done with the message: an alias is applied (or never will be). */
  settle(seq: number): void {
    this.canonicals.delete(seq);
    const from = this.aliasFrom.get(seq);
    if (from === undefined) return;
    this.aliasFrom.delete(seq);
    // Its link is stored now (or never will be): read the record again.
    this.records.delete(from);
    this.reading.delete(from);
    const list = this.pending.get(from)?.filter((a) => a.seq !== seq);
    if (list?.length) this.pending.set(from, list);
    else this.pending.delete(from);
  }

  /** The canonical user of `userKey` for the message at `seq`: from the aliases before it that
   * are still pending here, then from the alias records' links before `seq`. */
  async canonicalAt(seq: number, userKey: string): Promise<string> {
    let key = userKey;
    for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
      // An earlier alias not applied yet decides over the stored record it will replace.
      const earlier = this.pending
        .get(key)
        ?.filter((a) => a.seq < seq)
        .pop();
      const target = earlier ? await earlier.target : undefined;
      if (target !== undefined && target !== key) {
        key = target;
        continue;
      }
      // Unreadable: not an alias record. The handler meets it and retries or dead-letters.
      const record = await this.record(key);
      const aliasOf = record === 'unreadable' ? undefined : aliasAt(record ?? undefined, seq);
      if (aliasOf === undefined || aliasOf === key) return key;
      key = aliasOf;
    }
    return key;
  }

  /** The record of `key`, kept from an earlier read or read now (concurrent asks share a read). */
  private record(key: string): Promise<Read> {
    const kept = this.records.get(key);
    if (kept !== undefined) {
      this.records.delete(key);
      this.records.set(key, kept);
      return Promise.resolve(kept);
    }
    const reading = this.reading.get(key);
    if (reading) return reading;
    const read = this.profiles.get(encodeKey(key)).then((entry): Read => {
      if (entry?.operation !== 'PUT') return null;
      try {
        return profileCodec.decode(entry.value);
      } catch {
        return 'unreadable';
      }
    });
    this.reading.set(key, read);
    // Kept only when no alias of the key settled while it was read (that one dropped the read).
    const done = (value: Read | undefined): void => {
      if (this.reading.get(key) !== read) return;
      this.reading.delete(key);
      if (value === undefined || value === 'unreadable') return;
      this.records.set(key, value);
      if (this.records.size > this.cacheSize) this.records.delete(this.records.keys().next().value!);
    };
    read.then(done, () => done(undefined));
    return read;
  }
}
