// Where pending timers live durably (DESIGN.md §2): stream TIMERS, one subject per partition and
// time bucket (`timers.<p>.<bucket>`, bucket = floor(at / width)), plus each partition's progress
// in KV `cairn_state`. Behind an interface so that nats-server 2.12+ (ADR-51 `@at` schedules) can
// replace it.
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';

import {
  BUCKETS,
  casUpdate,
  STREAMS,
  subjects,
  TimerMessage,
  timerProgressCodec,
  timerProgressKey,
  type Bus,
  type TimerRecord,
} from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** One stored timer message. `timer` is undefined for a message that does not decode (it is
 * logged, never fired, and purged with its bucket). */
export interface StoredTimer {
  bucket: number;
  seq: number;
  timer: TimerRecord | undefined;
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
  /** Every timer stored in one bucket. */
  loadBucket(p: number, bucket: number): Promise<StoredTimer[]>;
  /** Calls `onTimer` for each timer of p stored from now on (whatever its bucket). */
  follow(p: number, onTimer: (t: StoredTimer) => void): Promise<TimerFollower>;
  /** Removes the bucket's messages with a sequence below `belowSeq` (later ones survive). */
  purgeBucket(p: number, bucket: number, belowSeq: number): Promise<void>;
}

/** Up to this many buckets are looked up one subject at a time. */
const RANGE_BY_SUBJECT = 64;

export class JetStreamTimerStore implements TimerStore {
  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

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
      { codec: timerProgressCodec },
    );
  }

  async nonEmptyBuckets(p: number, range?: { from: number; to: number }): Promise<number[]> {
    if (range && range.to - range.from < RANGE_BY_SUBJECT) {
      // A few buckets: ask for each subject. Listing the partition's subjects would return every
      // bucket of the day (tens of thousands with a million timers) at every new bucket.
      const out: number[] = [];
      for (let bucket = range.from; bucket <= range.to; bucket++) {
        const subject = subjects.timerBucket(p, bucket);
        const info = await this.bus.jsm.streams.info(STREAMS.TIMERS, { subjects_filter: subject });
        if ((info.state.subjects?.[subject] ?? 0) > 0) out.push(bucket);
      }
      return out;
    }
    const info = await this.bus.jsm.streams.info(STREAMS.TIMERS, {
      subjects_filter: subjects.timerPartition(p),
    });
    const out: number[] = [];
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const bucket = bucketOfSubject(subject);
      if (count > 0 && bucket !== undefined) out.push(bucket);
    }
    return out.sort((a, b) => a - b);
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
    const consumer = await this.bus.js.consumers.get(STREAMS.TIMERS, {
      filter_subjects: subjects.timerPartition(p),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
    });
    const messages = await consumer.consume({
      callback: (msg) => {
        const bucket = bucketOfSubject(msg.subject);
        if (bucket !== undefined) onTimer(this.decode(msg, bucket));
      },
    });
    return {
      stop: async () => {
        await messages.close().catch(() => undefined);
      },
    };
  }

  async purgeBucket(p: number, bucket: number, belowSeq: number): Promise<void> {
    await this.bus.jsm.streams.purge(STREAMS.TIMERS, {
      filter: subjects.timerBucket(p, bucket),
      seq: belowSeq,
    });
  }

  private decode(msg: JsMsg, bucket: number): StoredTimer {
    try {
      return { bucket, seq: msg.seq, timer: TimerMessage.decode(msg.data) };
    } catch (err) {
      this.log.error({ err, subject: msg.subject, seq: msg.seq }, 'undecodable timer skipped');
      return { bucket, seq: msg.seq, timer: undefined };
    }
  }
}

export function bucketOfSubject(subject: string): number | undefined {
  const last = subject.split('.').pop() ?? '';
  return /^-?\d+$/.test(last) ? Number(last) : undefined;
}
