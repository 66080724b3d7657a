// Ingest's watermark (DESIGN.md §2): the receive time up to which every event has been routed to
// its partition. The timer service fires a timer only once the watermark has passed its instant,
// so an event received before a deadline is applied before the timeout.
import { BUCKETS, STREAMS, WATERMARK_KEY, watermarkCodec, type Bus } from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** How far behind the clock an idle watermark stays: covers an event already stored in EVENTS
 * whose delivery the consumer info we just read could not show yet. */
export const IDLE_MARGIN_MS = 50;
export const WATERMARK_INTERVAL_MS = 100;

/** Tracks the messages between arrival and routing. Not shared across replicas: one ingest
 * replica per durable consumer (see README). */
export class RoutingTracker {
  private readonly inFlight = new Map<number, number>();
  private lastRouted: number | undefined;
  private published: number | undefined;

  /** A message arrived (its stream sequence and receive time). */
  begin(seq: number, receivedAt: number): void {
    if (!this.inFlight.has(seq)) this.inFlight.set(seq, receivedAt);
  }

  /** The message is routed (or gone to the DLQ): it no longer holds the watermark back. */
  end(seq: number): void {
    const receivedAt = this.inFlight.get(seq);
    if (receivedAt === undefined) return;
    this.inFlight.delete(seq);
    if (this.lastRouted === undefined || receivedAt > this.lastRouted) this.lastRouted = receivedAt;
  }

  get size(): number {
    return this.inFlight.size;
  }

  /**
   * The watermark now. `idleAt` is the clock reading to use when nothing is in flight and the
   * consumer has nothing pending, or undefined when it has. Never moves backwards.
   */
  compute(idleAt: number | undefined): number | undefined {
    let at: number | undefined;
    if (this.inFlight.size > 0) {
      let min = Infinity;
      for (const r of this.inFlight.values()) if (r < min) min = r;
      at = min - 1;
    } else if (idleAt !== undefined) {
      at = idleAt;
    } else {
      at = this.lastRouted;
    }
    if (at === undefined) return this.published;
    if (this.published !== undefined && at < this.published) return this.published;
    this.published = at;
    return at;
  }
}

export interface WatermarkPublisher {
  stop(): Promise<void>;
}

/** Every 100 ms: compute the watermark and put it in `cairn_state`. */
export async function startWatermarkPublisher(opts: {
  bus: Bus;
  tracker: RoutingTracker;
  durableName: string;
  log: Logger;
  intervalMs?: number;
}): Promise<WatermarkPublisher> {
  const { bus, tracker, durableName, log } = opts;
  const kv = await bus.kv(BUCKETS.state);
  const interval = opts.intervalMs ?? WATERMARK_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastPut: number | undefined;

  const idleAt = async (): Promise<number | undefined> => {
    if (tracker.size > 0) return undefined;
    // Read the clock before the consumer info: an event stored after this instant is ahead of it.
    const now = Date.now();
    const info = await bus.jsm.consumers.info(STREAMS.EVENTS, durableName);
    if (info.num_pending !== 0 || info.num_ack_pending !== 0 || tracker.size > 0) return undefined;
    return now - IDLE_MARGIN_MS;
  };

  const tick = async (): Promise<void> => {
    try {
      const at = tracker.compute(await idleAt());
      if (at !== undefined && at !== lastPut) {
        await kv.put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at }));
        lastPut = at;
      }
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
