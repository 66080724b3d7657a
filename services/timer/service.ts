// The timer service: durable time-bucketed timers (DESIGN.md §2) for the owned partitions. Fires
// each timer to `match.<p>.timer` (Nats-Msg-Id `timer:<token>`) never before its instant and
// only once ingest's watermark has passed it.
// Lifecycle (STYLE.md rule 9): starting -> ready -> draining -> stopped.
import { PartitionLeases, startServerClock } from '../../libs/bus/index.js';
import { ownedPartitions } from '../../libs/config/index.js';
import type { ServiceContext } from '../../libs/telemetry/index.js';
import { startTimerGauges } from './gauges.js';
import { PartitionTimers } from './partition-timers.js';
import { JetStreamTimerStore, type TimerStore } from './store.js';
import { watchWatermark } from './watermark.js';

export const TIMER_STAGE = 'timer';

/** The shared service context (libs/telemetry lifecycle). */
export type TimerContext = ServiceContext;

export interface TimerOptions {
  /** How far ahead buckets are loaded (default two bucket widths). */
  lookaheadMs?: number;
  /** Loader / progress period (default min(1 s, width / 2)). */
  loadEveryMs?: number;
  /** Where timers are stored (default stream TIMERS). */
  store?: TimerStore;
  /** This host's clock (default Date.now): tests inject a skewed one. */
  now?: () => number;
}

export interface TimerService {
  isReady(): boolean;
  /** Timers loaded and not yet fired, over all owned partitions. */
  pendingCount(): number;
  stop(graceMs: number): Promise<void>;
}

export async function startTimer(ctx: TimerContext, opts: TimerOptions = {}): Promise<TimerService> {
  const { config, bus, metrics } = ctx;
  const log = ctx.logger.child({ service: TIMER_STAGE });
  const bucketMs = config.timerBucketMs;
  const store = opts.store ?? new JetStreamTimerStore(bus, log, metrics);
  /** The partitions running here: those whose lease this process holds. */
  const partitions = new Map<number, PartitionTimers>();
  // Due instants are on the NATS server's clock (receive times): compare them with it.
  const clock = await startServerClock({
    bus,
    ...(opts.now ? { localNow: opts.now } : {}),
    maxSkewMs: config.maxClockSkewMs,
    log,
    metrics,
  });
  const watermark = await watchWatermark(
    bus,
    log,
    () => {
      for (const p of partitions.values()) p.kick();
    },
    config.ingestShards,
  );
  let ready = false;
  let stopped: Promise<void> | undefined;

  // A partition's timers run while this process holds its lease: two replicas with one ordinal
  // (a rolling update) never fire and remove one partition's timers at once.
  const leases: PartitionLeases = new PartitionLeases({
    bus,
    stage: TIMER_STAGE,
    partitions: ownedPartitions(config),
    ttlMs: config.leaseTtlMs,
    log,
    metrics,
    acquired: async (partition) => {
      const p = new PartitionTimers({
        partition,
        bucketMs,
        lookaheadMs: opts.lookaheadMs ?? 2 * bucketMs,
        loadEveryMs: opts.loadEveryMs ?? Math.min(1_000, Math.floor(bucketMs / 2)),
        store,
        bus,
        watermark: () => watermark.current(partition),
        now: () => clock.now(),
        holds: () => leases.holds(partition),
        metrics,
        log,
      });
      partitions.set(partition, p);
      try {
        await p.start();
      } catch (err) {
        partitions.delete(partition);
        await p.stop();
        throw err;
      }
    },
    lost: async (partition) => {
      const p = partitions.get(partition);
      partitions.delete(partition);
      // Firing is a publish: it finishes quickly (and is deduplicated if it ran twice).
      await p?.stop();
    },
  });

  const stopAll = async (): Promise<void> => {
    await leases.stop();
    await Promise.all([...partitions.values()].map((p) => p.stop()));
    await watermark.stop();
    clock.stop();
  };

  try {
    await leases.start();
  } catch (err) {
    await stopAll();
    throw err;
  }
  const gauges = startTimerGauges({
    partitions: () => partitions.values(),
    store,
    watermark: (p) => watermark.current(p),
    now: () => clock.now(),
    metrics,
    intervalMs: config.metricsIntervalMs,
    log,
  });
  ready = true;
  log.info({ partitions: ownedPartitions(config).length, held: leases.held(), bucketMs }, 'timer ready');

  return {
    isReady: () => ready,
    pendingCount: () => [...partitions.values()].reduce((n, p) => n + p.pendingCount, 0),
    stop(graceMs) {
      stopped ??= (async () => {
        ready = false;
        log.info({ graceMs }, 'timer draining');
        // Firing is a publish: it finishes quickly; nothing is lost if it is cut off (the
        // bucket is not purged, and the timer fires again after restart, deduplicated).
        let t: NodeJS.Timeout | undefined;
        await Promise.race([gauges.stop().then(stopAll), new Promise((r) => (t = setTimeout(r, graceMs)))]);
        clearTimeout(t);
        log.info('timer stopped');
      })();
      return stopped;
    },
  };
}
