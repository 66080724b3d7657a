// The timers of one partition (DESIGN.md §2): buckets due soon are loaded from the TimerStore
// into a min-heap; each timer fires to `match.<p>.timer` once now >= at and the watermark >= at;
// a bucket whose timers have all fired and whose end the watermark has passed is removed (exactly
// the sequences accepted from it) and recorded as progress; if it still holds a message nobody
// accepted, it is loaded again instead. After downtime the first load picks up every stored
// bucket up to the horizon, so overdue timers fire at once.
import {
  DeliverJobMessage,
  publishWithId,
  subjects,
  TimerMessage,
  type Bus,
  type DlqRecord,
  type TimerRecord,
} from '../../libs/bus/index.js';
import type { Logger, Metrics } from '../../libs/telemetry/index.js';
import { TimerHeap } from './heap.js';
import type { StoredTimer, TimerFollower, TimerStore } from './store.js';

/** Re-check period while a due timer waits for the watermark. */
export const WATERMARK_POLL_MS = 100;
const FIRE_BATCH = 256;
const FIRE_RETRY_MS = 500;

interface BucketState {
  /** Timers loaded and not yet fired. */
  pending: number;
  /** Every stream sequence accepted from the bucket and not removed yet (fired or not, repeats
   * of a token and undecodable messages included): what finishing the bucket removes. */
  seqs: Set<number>;
  tokens: Set<string>;
  /** DLQ records of the bucket's undecodable messages, written before they are removed. */
  dead: DlqRecord[];
}

interface HeapEntry {
  at: number;
  token: string;
  bucket: number;
  timer: TimerRecord;
}

export interface PartitionTimersOptions {
  partition: number;
  bucketMs: number;
  /** How far ahead of now buckets are loaded. */
  lookaheadMs: number;
  /** Period of the loader (and of progress/purge). */
  loadEveryMs: number;
  store: TimerStore;
  bus: Bus;
  /** This partition's watermark. */
  watermark: () => number;
  /** The NATS server's clock, which due instants are on. */
  now: () => number;
  /** Whether this process still holds the partition's lease: nothing is fired, removed or
   * recorded without it (default: always). */
  holds?: () => boolean;
  metrics: Pick<Metrics, 'timerLateness' | 'timersFired'>;
  log: Logger;
}

export class PartitionTimers {
  private readonly heap = new TimerHeap<HeapEntry>();
  private readonly buckets = new Map<number, BucketState>();
  private loadedUpTo = -Infinity;
  private loadingTarget = -Infinity;
  private progress: number | undefined;
  private follower: TimerFollower | undefined;
  private wake: NodeJS.Timeout | undefined;
  private loaderTimer: NodeJS.Timeout | undefined;
  private firing: Promise<void> | undefined;
  private maintenance: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly o: PartitionTimersOptions) {
    this.log = o.log.child({ partition: o.partition });
  }

  get pendingCount(): number {
    return this.heap.size;
  }

  get partition(): number {
    return this.o.partition;
  }

  /** Messages accepted from their buckets that will not fire (any more) and are still stored:
   * fired, repeats of a token, undecodable. Removed when their bucket is finished. */
  get settledCount(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.seqs.size - b.pending;
    return n;
  }

  async start(): Promise<void> {
    const { store, partition } = this.o;
    this.progress = await store.readProgress(partition);
    this.follower = await store.follow(partition, (t) => {
      if (t.bucket <= this.loadingTarget) this.accept(t);
    });
    await this.load();
    this.scheduleLoader();
    this.kick();
    this.log.info({ progress: this.progress, pending: this.heap.size }, 'partition timers started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wake);
    clearTimeout(this.loaderTimer);
    await this.follower?.stop();
    await this.firing;
    await this.maintenance.catch(() => undefined);
  }

  /** Something changed (watermark, a new timer): look at the heap again. */
  kick(): void {
    if (this.stopped || this.firing || (this.o.holds && !this.o.holds())) return;
    clearTimeout(this.wake);
    this.wake = undefined;
    const top = this.heap.peek();
    if (!top) return;
    const now = this.o.now();
    if (now >= top.at && (top.timer.deliver !== undefined || this.o.watermark() >= top.at)) {
      this.firing = this.fireDue().finally(() => {
        this.firing = undefined;
        this.kick();
      });
      return;
    }
    // Not yet due: wake at its instant. Due but the watermark lags: look again soon.
    const delay = now < top.at ? top.at - now : WATERMARK_POLL_MS;
    this.wake = setTimeout(() => this.kick(), Math.min(delay, this.o.loadEveryMs));
  }

  private accept(t: StoredTimer): void {
    let b = this.buckets.get(t.bucket);
    if (!b) {
      b = { pending: 0, seqs: new Set(), tokens: new Set(), dead: [] };
      this.buckets.set(t.bucket, b);
    }
    // The follower and a (re)load may both bring a message: count it once.
    if (b.seqs.has(t.seq)) return;
    b.seqs.add(t.seq);
    const timer = t.timer;
    if (!timer) {
      if (t.dead) b.dead.push(t.dead);
      return;
    }
    if (b.tokens.has(timer.token)) return;
    b.tokens.add(timer.token);
    b.pending++;
    this.heap.push({ at: timer.at, token: timer.token, bucket: t.bucket, timer });
    const top = this.heap.peek();
    if (top?.token === timer.token) this.kick();
  }

  private async fireDue(): Promise<void> {
    const { bus, partition, metrics } = this.o;
    const batch: HeapEntry[] = [];
    if (this.o.holds && !this.o.holds()) return;
    const now = this.o.now();
    const watermark = this.o.watermark();
    for (let top = this.heap.peek(); top && batch.length < FIRE_BATCH; top = this.heap.peek()) {
      // A parked delivery retry is not an input of the journey: the watermark does not hold it.
      if (now < top.at || (top.timer.deliver === undefined && watermark < top.at)) break;
      batch.push(this.heap.pop()!);
    }
    const results = await Promise.allSettled(
      batch.map((e) =>
        e.timer.deliver !== undefined
          ? publishWithId(
              bus.lean,
              subjects.deliver(partition),
              DeliverJobMessage.encode(e.timer.deliver),
              e.token,
            )
          : publishWithId(
              bus.lean,
              subjects.matchTimer(partition),
              TimerMessage.encode(e.timer),
              `timer:${e.token}`,
            ),
      ),
    );
    let failed = 0;
    const firedAt = this.o.now();
    results.forEach((r, i) => {
      const e = batch[i]!;
      if (r.status === 'rejected') {
        failed++;
        this.heap.push(e);
        return;
      }
      metrics.timerLateness.observe((firedAt - e.at) / 1_000);
      metrics.timersFired.inc();
      const b = this.buckets.get(e.bucket);
      if (b) b.pending--;
    });
    if (failed > 0) {
      const reason = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      this.log.warn({ err: reason.reason as unknown, failed }, 'timer fire failed; retrying');
      await new Promise((r) => setTimeout(r, FIRE_RETRY_MS));
    }
  }

  private scheduleLoader(): void {
    if (this.stopped) return;
    this.loaderTimer = setTimeout(() => {
      this.maintenance = this.maintain().finally(() => this.scheduleLoader());
    }, this.o.loadEveryMs);
  }

  private async maintain(): Promise<void> {
    try {
      await this.load();
      await this.finish();
    } catch (err) {
      this.log.warn({ err }, 'timer maintenance failed; will retry');
    }
  }

  /** Loads every stored bucket up to the horizon not loaded yet. */
  private async load(): Promise<void> {
    const { store, partition, bucketMs, lookaheadMs } = this.o;
    const target = Math.floor((this.o.now() + lookaheadMs) / bucketMs);
    if (target <= this.loadedUpTo) return;
    // From here on the follower keeps every new timer up to the target.
    this.loadingTarget = Math.max(this.loadingTarget, target);
    // The first load lists every stored bucket (overdue ones included); later ones only ask for
    // the buckets that came within the horizon since (the follower has every newer timer).
    const range = Number.isFinite(this.loadedUpTo) ? { from: this.loadedUpTo + 1, to: target } : undefined;
    for (const bucket of await store.nonEmptyBuckets(partition, range)) {
      if (bucket <= this.loadedUpTo || bucket > target) continue;
      for (const t of await store.loadBucket(partition, bucket)) this.accept(t);
      if (this.stopped) return;
    }
    this.loadedUpTo = target;
    this.kick();
  }

  /**
   * Removes the buckets that are done and records progress. A done bucket loses exactly the
   * sequences accepted from it (never a filtered purge: on 2.9.10 it moves the follower past
   * unread timers of other buckets, and it would remove a timer nobody accepted). Then every
   * bucket up to the new progress is counted: one that still holds more than was accepted since
   * (a timer the follower skipped or has not delivered yet) is loaded again, and progress stops
   * before it.
   */
  private async finish(): Promise<void> {
    const { store, partition, bucketMs } = this.o;
    const closedBy = Math.min(this.o.watermark(), this.o.now());
    // A bucket is closed once every instant in it is at or before the watermark.
    let upTo = Math.min(Math.floor((closedBy + 1) / bucketMs) - 1, this.loadedUpTo);
    for (const [bucket, b] of this.buckets) if (b.pending > 0) upTo = Math.min(upTo, bucket - 1);
    if (!Number.isFinite(upTo)) return;
    const done = [...this.buckets.entries()].filter(([bucket]) => bucket <= upTo);
    for (const [, b] of done) {
      if (this.o.holds && !this.o.holds()) return;
      const seqs = [...b.seqs];
      const dead = b.dead;
      // An undecodable timer leaves a DLQ record before it goes (a failure retries next round).
      for (const record of dead) await store.deadLetter(record);
      b.dead = b.dead.filter((r) => !dead.includes(r));
      await store.remove(seqs);
      for (const seq of seqs) b.seqs.delete(seq);
    }
    // Count every bucket from the lowest one finished (or the last progress) up to upTo.
    let from = this.progress === undefined ? undefined : this.progress + 1;
    for (const [bucket] of done) from = from === undefined ? bucket : Math.min(from, bucket);
    const stored = await store.bucketCounts(partition, from === undefined ? undefined : { from, to: upTo });
    for (const [bucket, count] of [...stored].sort(([a], [b]) => a - b)) {
      if (bucket > upTo) continue;
      const b = this.buckets.get(bucket);
      if (count <= (b?.seqs.size ?? 0)) continue;
      // A timer stored here was never accepted: load the bucket again (accept skips the rest).
      this.log.warn(
        { bucket, stored: count, accepted: b?.seqs.size ?? 0 },
        'bucket holds timers not seen; reloading it',
      );
      for (const t of await store.loadBucket(partition, bucket)) this.accept(t);
      upTo = Math.min(upTo, bucket - 1);
    }
    for (const [bucket, b] of done) {
      // A late timer may have arrived meanwhile: keep its state.
      if (b.pending === 0 && b.seqs.size === 0 && b.dead.length === 0) this.buckets.delete(bucket);
    }
    if ((this.progress === undefined || upTo > this.progress) && (this.o.holds?.() ?? true)) {
      await store.writeProgress(partition, upTo);
      this.progress = upTo;
      this.log.debug({ progress: upTo, removed: done.length }, 'timer progress');
    }
    this.kick();
  }
}
