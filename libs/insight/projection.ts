// The JOURNAL projection: reads the journal from its checkpoint with an ordered consumer, folds a
// batch of records per journey version in memory, and commits each version's counts as one KV
// value by CAS, then the checkpoint. Read -> fold -> commit, once per batch.
//
// Exactly once per record: a value carries the last stream sequence folded into it, and a record
// at or below it is skipped. A crash between the values and the checkpoint re-reads the batch;
// two projections at once (a lease handed over while the old holder still commits) conflict on
// the revision, reload, and skip what the other one counted. The journal's own dedupe (a decision's
// records carry one Nats-Msg-Id) keeps a re-published decision out of the stream.
import { DeliverPolicy, type Consumer } from '@nats-io/jetstream';
import type { Logger } from 'pino';

import {
  BUCKETS,
  casUpdate,
  decodeValue,
  JournalMessage,
  STREAMS,
  type Bus,
  type KvStore,
} from '../bus/index.js';
import type { JournalRecord } from '../journey/index.js';
import { countVersionRecord, emptyVersionCounters, pruneWindows, recordKey } from './counters.js';
import { CHECKPOINT_KEY, checkpointCodec, statsValueCodec, type StatsValue } from './store.js';

/** Messages (decisions) folded per commit at most. */
export const PROJECTION_BATCH = 1_000;
/** How long a read waits for a batch to fill. */
const FETCH_EXPIRES_MS = 1_000;
const BACKOFF_MS = [100, 250, 500, 1_000, 2_000];

export interface ProjectionOptions {
  bus: Bus;
  log: Logger;
  batch?: number;
  /** Wall clock (epoch ms) for pruning hourly counts; default Date.now. */
  now?: () => number;
}

export interface JournalProjection {
  /** The last JOURNAL sequence committed (values and checkpoint). */
  committed(): number;
  /** Stops reading; a batch being committed is finished first. */
  stop(): Promise<void>;
}

/** A journal message's records with its stream sequence. */
interface Sequenced {
  seq: number;
  records: JournalRecord[];
}

/** Read: up to `max` journal messages from the consumer, records grouped by counter key. */
async function readBatch(
  consumer: Consumer,
  max: number,
  log: Logger,
): Promise<{ last: number; byKey: Map<string, Sequenced[]> }> {
  const byKey = new Map<string, Sequenced[]>();
  let last = 0;
  const batch = await consumer.fetch({ max_messages: max, expires: FETCH_EXPIRES_MS });
  for await (const msg of batch) {
    last = msg.seq;
    let records: JournalRecord[];
    try {
      records = JournalMessage.decode(msg.data);
    } catch (err) {
      log.warn(
        { err, seq: msg.seq, subject: msg.subject },
        'journal message not counted: it does not decode',
      );
      continue;
    }
    for (const record of records) {
      const key = recordKey(record);
      let list = byKey.get(key);
      if (!list) {
        list = [];
        byKey.set(key, list);
      }
      const tail = list[list.length - 1];
      if (tail?.seq === msg.seq) tail.records.push(record);
      else list.push({ seq: msg.seq, records: [record] });
    }
  }
  return { last, byKey };
}

/** Fold + commit of one key: the records above its stored sequence, by CAS. */
async function commitKey(store: KvStore, key: string, items: Sequenced[], now: number): Promise<void> {
  await casUpdate<StatsValue>(
    store,
    key,
    (current) => {
      const first = items[0]!.records[0]!;
      const value: StatsValue = current
        ? structuredClone(current)
        : { v: 1, seq: 0, ...emptyVersionCounters(first.journeyId, first.version, first.shadow === true) };
      let changed = false;
      for (const item of items) {
        if (item.seq <= value.seq) continue;
        for (const record of item.records) countVersionRecord(value, record);
        value.seq = item.seq;
        changed = true;
      }
      if (!changed) return undefined;
      pruneWindows(value, now);
      return value;
    },
    { codec: statsValueCodec, bucket: BUCKETS.stats, maxAttempts: 10 },
  );
}

export async function readCheckpoint(store: KvStore): Promise<number> {
  const entry = await store.get(CHECKPOINT_KEY);
  if (!entry || entry.operation !== 'PUT') return 0;
  return decodeValue(checkpointCodec, BUCKETS.stats, CHECKPOINT_KEY, entry.value).seq;
}

export async function startJournalProjection(o: ProjectionOptions): Promise<JournalProjection> {
  const store = await o.bus.store(BUCKETS.stats);
  const now = o.now ?? Date.now;
  const max = o.batch ?? PROJECTION_BATCH;
  let committed = await readCheckpoint(store).catch((err: unknown) => {
    // Safe to start over: every value skips the records it already holds.
    o.log.error({ err }, 'journal projection: checkpoint unreadable; reading the journal from its start');
    return 0;
  });
  let stopped = false;
  let consumer: Consumer | undefined;

  const loop = (async () => {
    for (let failures = 0; !stopped;) {
      try {
        consumer ??= await o.bus.js.consumers.get(STREAMS.JOURNAL, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: committed + 1,
        });
        const { last, byKey } = await readBatch(consumer, max, o.log);
        if (last === 0) continue;
        const at = now();
        await Promise.all([...byKey].map(([key, items]) => commitKey(store, key, items, at)));
        await store.put(CHECKPOINT_KEY, checkpointCodec.encode({ v: 1, seq: last }));
        committed = last;
        failures = 0;
      } catch (err) {
        // The batch is read again from the checkpoint: what was committed is skipped by sequence.
        o.log.warn({ err, committed }, 'journal projection: batch failed; reading again from the checkpoint');
        consumer = undefined;
        const wait = BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]!;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  })();

  return {
    committed: () => committed,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
