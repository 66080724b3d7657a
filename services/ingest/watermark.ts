// Ingest's watermark (DESIGN.md §2): per partition, the receive time up to which every event that
// can be routed to that partition has been routed. The timer service fires a timer of partition p
// only once p's watermark has passed its instant, so an event received before a deadline is
// applied before the timeout. An event in flight holds back only its own partition once its
// canonical user is known (every partition until then), and only until the runner is done with
// it: routed, dead-lettered at the end of its delivery budget, or gone from EVENTS.
// With S ingest shards, shard s publishes only the partitions p with p mod S == s, under its own
// key (libs/bus watermarkKey): each partition's watermark has exactly one writer.
import { BUCKETS, STREAMS, watermarkCodec, watermarkKey, type Bus } from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** How far behind the (server) clock an idle watermark stays: covers an event already stored in
 * EVENTS whose delivery the consumer info we just read could not show yet. */
export const IDLE_MARGIN_MS = 50;
export const WATERMARK_INTERVAL_MS = 100;

interface InFlight {
  receivedAt: number;
  /** The partition it is routed to; undefined until its canonical user is known. */
  partition?: number;
}

/** Tracks the messages between arrival and the runner's last word on them. Not shared across
 * processes: one ingest process per shard, each with its own durable consumer (see README). */
export class RoutingTracker {
  private readonly inFlight = new Map<number, InFlight>();
  /** The latest receive time of a message that arrived: every message not delivered yet was
   * received at or after it (stream order). */
  private frontier: number | undefined;
  private highestSeq = 0;
  private published: number[] | undefined;

  constructor(private readonly partitions: number) {}

  /** A message arrived (its stream sequence and receive time). */
  begin(seq: number, receivedAt: number): void {
    if (!this.inFlight.has(seq)) this.inFlight.set(seq, { receivedAt });
    if (seq > this.highestSeq) this.highestSeq = seq;
    if (this.frontier === undefined || receivedAt > this.frontier) this.frontier = receivedAt;
  }

  /** Its canonical user is known: from now on it holds back this partition only. */
  route(seq: number, partition: number): void {
    const m = this.inFlight.get(seq);
    if (m) m.partition = partition;
  }

  /** Routed, dead-lettered or gone: it no longer holds any watermark back. */
  end(seq: number): void {
    this.inFlight.delete(seq);
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** The highest stream sequence that arrived. */
  get maxSeq(): number {
    return this.highestSeq;
  }

  /**
   * The watermark of each partition now. `idleAt` is the (server) clock reading to use when every
   * stored event has been delivered to this process, or undefined when some may not have been.
   * Never moves backwards.
   */
  compute(idleAt: number | undefined): number[] | undefined {
    const base = idleAt ?? this.frontier;
    if (base === undefined) return this.published;
    const at = new Array<number>(this.partitions).fill(base);
    for (const m of this.inFlight.values()) {
      const held = m.receivedAt - 1;
      if (m.partition === undefined) {
        for (let p = 0; p < at.length; p++) if (held < at[p]!) at[p] = held;
      } else if (m.partition < at.length && held < at[m.partition]!) at[m.partition] = held;
    }
    const before = this.published;
    if (before) for (let p = 0; p < at.length; p++) at[p] = Math.max(at[p]!, before[p] ?? -Infinity);
    this.published = at;
    return at;
  }
}

export interface WatermarkPublisher {
  stop(): Promise<void>;
}

/** Every 100 ms: compute the watermarks and put them in `cairn_state`. */
export async function startWatermarkPublisher(opts: {
  bus: Bus;
  tracker: RoutingTracker;
  durableName: string;
  /** This process's shard (default: the only one, key `watermark`). */
  shard?: { index: number; count: number };
  /** True while the runner may hold messages it has not passed on (crash recovery). */
  recovering: () => boolean;
  /** The NATS server's clock (libs/bus ServerClock), which stamps receive times. */
  now: () => number;
  log: Logger;
  intervalMs?: number;
}): Promise<WatermarkPublisher> {
  const { bus, tracker, durableName, log, now } = opts;
  const kv = await bus.kv(BUCKETS.state);
  const interval = opts.intervalMs ?? WATERMARK_INTERVAL_MS;
  const shard = opts.shard ?? { index: 0, count: 1 };
  const key = watermarkKey(shard.count, shard.index);
  const owns = (p: number): boolean => p % shard.count === shard.index;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastPut: string | undefined;

  const idleAt = async (): Promise<number | undefined> => {
    if (opts.recovering()) return undefined;
    // Read the clock before the consumer info: an event stored after this instant is ahead of it.
    const at = now();
    const info = await bus.jsm.consumers.info(STREAMS.EVENTS, durableName);
    // Everything stored was delivered, and everything unacknowledged has arrived and is tracked:
    // the events in flight hold their partitions back. (A delivery still in the client's buffer
    // is newer than every arrival, and counts as unacknowledged.)
    const unacked = info.num_ack_pending;
    if (
      info.num_pending !== 0 ||
      unacked > tracker.size ||
      (unacked > 0 && info.delivered.stream_seq > tracker.maxSeq) ||
      opts.recovering()
    )
      return undefined;
    return at - IDLE_MARGIN_MS;
  };

  const tick = async (): Promise<void> => {
    try {
      const computed = tracker.compute(await idleAt());
      if (computed === undefined) return;
      // Another shard's partitions are 0 here: a reader that took them would only wait.
      const partitions = computed.map((at, p) => (owns(p) ? at : 0));
      const seen = partitions.join(',');
      if (seen === lastPut) return;
      const at = Math.min(...partitions.filter((_, p) => owns(p)));
      await kv.put(
        key,
        watermarkCodec.encode(
          shard.count > 1
            ? { v: 2, at, partitions, shard: { index: shard.index, count: shard.count } }
            : { v: 2, at, partitions },
        ),
      );
      lastPut = seen;
    } catch (err) {
      log.warn({ err }, 'watermark update failed');
    }
  };

  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    if (stopped) return;
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, interval);
    });
  };
  loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
