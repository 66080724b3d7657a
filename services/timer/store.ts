// Where pending timers live durably (DESIGN.md §2): stream TIMERS, one subject per partition and
// time bucket (`timers.<p>.<bucket>`, bucket = floor(at / width)), plus each partition's progress
// in KV `cairn_state`. Behind an interface so that nats-server 2.12+ (ADR-51 `@at` schedules) can
// replace it.
import { randomUUID } from 'node:crypto';

import { AckPolicy, DeliverPolicy, JetStreamApiError, type ApiError, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

import {
  BUCKETS,
  casUpdate,
  dlqRecordOf,
  publishDlq,
  RecentDeletes,
  STREAMS,
  subjects,
  TimerMessage,
  timerProgressCodec,
  timerProgressKey,
  type Bus,
  type DlqRecord,
  type TimerRecord,
} from '../../libs/bus/index.js';
import type { Logger, Metrics } from '../../libs/telemetry/index.js';
import { followOrdered } from './follower.js';

/** The DLQ stage of the timer service: undecodable TIMERS messages go to `dlq.timer`. */
export const TIMER_DLQ_STAGE = 'timer';

/** One stored timer message. `timer` is undefined for a message that does not decode: it is
 * logged, never fired, and removed with its bucket once `dead` (its DLQ record) is written. */
export interface StoredTimer {
  bucket: number;
  seq: number;
  timer: TimerRecord | undefined;
  dead?: DlqRecord;
}

export interface TimerFollower {
  stop(): Promise<void>;
}

export interface TimerStore {
  /** The last bucket of p whose timers have all fired, if any. */
  readProgress(p: number): Promise<number | undefined>;
  /** Records progress; never moves it backwards. */
  writeProgress(p: number, bucket: number): Promise<void>;
  /** The buckets of p that hold timers, ascending; only those in `range` (inclusive) when given. */
  nonEmptyBuckets(p: number, range?: { from: number; to: number }): Promise<number[]>;
  /** How many messages each non-empty bucket of p holds (only those in `range` when given). */
  bucketCounts(p: number, range?: { from: number; to: number }): Promise<Map<number, number>>;
  /** Every timer stored in one bucket. */
  loadBucket(p: number, bucket: number): Promise<StoredTimer[]>;
  /** Calls `onTimer` for each timer of p stored from now on (whatever its bucket). */
  follow(p: number, onTimer: (t: StoredTimer) => void): Promise<TimerFollower>;
  /**
   * Removes exactly these stream sequences, one delete each: no consumer moves and nothing else
   * goes (a filtered purge does both on 2.9.10). A sequence already gone counts as removed.
   */
  remove(seqs: readonly number[]): Promise<void>;
  /** Writes an undecodable timer's DLQ record (once per sequence: the msg id is its sequence). */
  deadLetter(record: DlqRecord): Promise<void>;
  /** How many messages p has stored, fired or not (for `cairn_timers_pending`); optional. */
  storedCount?(p: number): Promise<number>;
}

/** Names of the short-lived consumers that count a partition's stored timers (storedCount). */
export const COUNT_CONSUMER_PREFIX = 'cairn_timers_count_';

/** Up to this many buckets are looked up one subject at a time. */
const RANGE_BY_SUBJECT = 64;
/** Deletes in flight at once, all partitions together. */
const DELETE_WINDOW = 32;
/** No message with that sequence (deleted already): 10037, or 10057 "no message found" (2.9). */
const NO_MESSAGE_FOUND = 10037;
const DELETE_FAILED = 10057;

function isGone(e: ApiError): boolean {
  return (
    e.err_code === NO_MESSAGE_FOUND ||
    (e.err_code === DELETE_FAILED && /no message found|EOF/i.test(e.description ?? '')) ||
    // What a restarted 2.9.10 answered for sequences deleted before its restart (any code).
    /^sequence \d+ not found$/i.test(e.description ?? '')
  );
}

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
class Window {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

export class JetStreamTimerStore implements TimerStore {
  private readonly window = new Window(DELETE_WINDOW);
  /** Deletes a killed 2.9 server may bring back: made again after a reconnect. */
  readonly recentDeletes: RecentDeletes;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    /** Where progress CAS conflicts are counted. */
    private readonly metrics?: Pick<Metrics, 'kvCasConflicts'>,
  ) {
    this.recentDeletes = new RecentDeletes(bus.nc, { remove: (seq) => this.deleteOne(seq), log });
  }

  async readProgress(p: number): Promise<number | undefined> {
    const kv = await this.bus.kv(BUCKETS.state);
    const entry = await kv.get(timerProgressKey(p));
    if (!entry || entry.operation !== 'PUT') return undefined;
    return timerProgressCodec.decode(entry.value).bucket;
  }

  async writeProgress(p: number, bucket: number): Promise<void> {
    const kv = await this.bus.kv(BUCKETS.state);
    await casUpdate(
      kv,
      timerProgressKey(p),
      (current) => (current && current.bucket >= bucket ? undefined : { v: 1 as const, bucket }),
      {
        codec: timerProgressCodec,
        bucket: BUCKETS.state,
        ...(this.metrics ? { metrics: this.metrics } : {}),
      },
    );
  }

  /**
   * The messages stored on `timers.<p>.*`: the num_pending of a short-lived consumer with that
   * filter (created and deleted at once; one in-memory, single-replica consumer). The stream's
   * subject counts would list every bucket of the partition, tens of thousands of subjects.
   */
  async storedCount(p: number): Promise<number> {
    const info = await this.bus.jsm.consumers.add(STREAMS.TIMERS, {
      name: `${COUNT_CONSUMER_PREFIX}${p}_${randomUUID().slice(0, 8)}`,
      filter_subject: subjects.timerPartition(p),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(30_000),
    });
    await this.bus.jsm.consumers.delete(STREAMS.TIMERS, info.name).catch(() => undefined);
    return info.num_pending;
  }

  async nonEmptyBuckets(p: number, range?: { from: number; to: number }): Promise<number[]> {
    return [...(await this.bucketCounts(p, range)).keys()].sort((a, b) => a - b);
  }

  async bucketCounts(p: number, range?: { from: number; to: number }): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (range && range.to - range.from < RANGE_BY_SUBJECT) {
      // A few buckets: ask for each subject. Listing the partition's subjects would return every
      // bucket of the day (tens of thousands with a million timers) at every new bucket.
      for (let bucket = range.from; bucket <= range.to; bucket++) {
        const subject = subjects.timerBucket(p, bucket);
        const info = await this.bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: subject });
        const count = info.state.subjects?.[subject] ?? 0;
        if (count > 0) out.set(bucket, count);
      }
      return out;
    }
    const info = await this.bus.jsm.streams.info(STREAMS.TIMERS, {
      subjects_filter: subjects.timerPartition(p),
    });
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const bucket = bucketOfSubject(subject);
      if (count > 0 && bucket !== undefined && (!range || (bucket >= range.from && bucket <= range.to)))
        out.set(bucket, count);
    }
    return out;
  }

  async loadBucket(p: number, bucket: number): Promise<StoredTimer[]> {
    const consumer = await this.bus.js.consumers.get(STREAMS.TIMERS, {
      filter_subjects: subjects.timerBucket(p, bucket),
    });
    const out: StoredTimer[] = [];
    try {
      for (let more = true; more;) {
        const batch = await consumer.fetch({ max_messages: 512, expires: 1_000 });
        more = false;
        for await (const msg of batch) {
          out.push(this.decode(msg, bucket));
          // Nothing after this one: stop now rather than wait for the fetch to expire.
          more = msg.info.pending > 0;
          if (!more) {
            batch.stop();
            break;
          }
        }
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  }

  async follow(p: number, onTimer: (t: StoredTimer) => void): Promise<TimerFollower> {
    // Start after the last message stored now: everything earlier is read by loadBucket.
    const info = await this.bus.jsm.streams.info(STREAMS.TIMERS);
    return followOrdered({
      bus: this.bus,
      filter: subjects.timerPartition(p),
      fromSeq: info.state.last_seq + 1,
      log: this.log,
      onMessage: (msg) => {
        const bucket = bucketOfSubject(msg.subject);
        if (bucket !== undefined) onTimer(this.decode(msg, bucket));
      },
    });
  }

  async remove(seqs: readonly number[]): Promise<void> {
    // One API request per timer, through the shared reply subscription (no client request
    // machinery per delete), at most DELETE_WINDOW in flight for all partitions together:
    // removal is never urgent, and a flood of deletes would delay the fires queued behind them.
    // A killed 2.9 server may bring an acknowledged delete back: each is remembered a while.
    const one = async (seq: number): Promise<void> => {
      await this.deleteOne(seq);
      this.recentDeletes.record(seq);
    };
    const results = await Promise.allSettled(seqs.map(one));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Deletes one sequence of TIMERS (already gone counts as deleted). */
  private async deleteOne(seq: number): Promise<void> {
    await this.window.acquire();
    try {
      const body = new TextEncoder().encode(JSON.stringify({ seq, no_erase: true }));
      const reply = await this.bus.lean.request(`$JS.API.STREAM.MSG.DELETE.${STREAMS.TIMERS}`, body);
      const r = JSON.parse(new TextDecoder().decode(reply.data)) as { success?: boolean; error?: ApiError };
      if (r.error && !isGone(r.error)) throw new JetStreamApiError(r.error);
    } finally {
      this.window.release();
    }
  }

  async deadLetter(record: DlqRecord): Promise<void> {
    await publishDlq(this.bus.js, subjects.dlq(TIMER_DLQ_STAGE), record);
  }

  private decode(msg: JsMsg, bucket: number): StoredTimer {
    try {
      return { bucket, seq: msg.seq, timer: TimerMessage.decode(msg.data) };
    } catch (err) {
      this.log.error({ err, subject: msg.subject, seq: msg.seq }, 'undecodable timer skipped');
      const detail = err instanceof Error ? err.message : String(err);
      const dead = dlqRecordOf(msg, TIMER_DLQ_STAGE, 'bad_message', detail, new Date());
      return { bucket, seq: msg.seq, timer: undefined, dead };
    }
  }
}

export function bucketOfSubject(subject: string): number | undefined {
  const last = subject.split('.').pop() ?? '';
  return /^-?\d+$/.test(last) ? Number(last) : undefined;
}
