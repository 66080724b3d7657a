// The timer service's gauges, read every CAIRN_METRICS_INTERVAL: per owned partition, the timers
// pending (stored and not fired yet) and the watermark's age as this service sees it.
import { startPoller, type Logger, type Metrics, type Poller } from '../../libs/telemetry/index.js';
import type { PartitionTimers } from './partition-timers.js';
import type { TimerStore } from './store.js';

export interface TimerGaugesOptions {
  /** The partitions running here now (those whose lease this process holds). */
  partitions: () => Iterable<PartitionTimers>;
  store: TimerStore;
  /** Partition p's watermark (epoch ms; -Infinity before ingest wrote one). */
  watermark: (partition: number) => number;
  /** The NATS server's clock. */
  now: () => number;
  metrics: Pick<Metrics, 'timersPending' | 'watermarkAge'>;
  intervalMs: number;
  log: Logger;
}

/**
 * `cairn_timers_pending{partition}`: the messages the store holds for the partition minus those
 * this service accepted that will not fire (fired, repeats, undecodable, waiting for their bucket
 * to be removed); at least the timers loaded and not fired. A store that cannot count gives the
 * loaded ones only. `cairn_watermark_age_seconds{partition}`: now minus the watermark, once
 * ingest has written one.
 */
export function startTimerGauges(o: TimerGaugesOptions): Poller {
  return startPoller(
    'timers pending',
    o.intervalMs,
    async () => {
      const handles = [...o.partitions()].map((pt) => ({
        pt,
        pending: o.metrics.timersPending.labels(String(pt.partition)),
        age: o.metrics.watermarkAge.labels(String(pt.partition)),
      }));
      for (const h of handles) {
        const watermark = o.watermark(h.pt.partition);
        if (Number.isFinite(watermark)) h.age.set((o.now() - watermark) / 1_000);
      }
      const results = await Promise.allSettled(
        handles.map(async ({ pt, pending }) => {
          if (!o.store.storedCount) {
            pending.set(pt.pendingCount);
            return;
          }
          const settled = pt.settledCount;
          const stored = await o.store.storedCount(pt.partition);
          pending.set(Math.max(pt.pendingCount, stored - settled));
        }),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    o.log,
  );
}
