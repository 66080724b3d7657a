// Gauges read from the NATS server on a timer (CAIRN_METRICS_INTERVAL), never per message: the
// lag of the durable consumers a process owns and the DLQ depth per stage. A failed read keeps
// the last values (a stuck read shows as no progress) and is logged once until a read succeeds.
import { dlqDepths, type Bus } from '../bus/index.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface Poller {
  stop(): Promise<void>;
}

/** Runs `read` now and then every `intervalMs` after the previous run ended; never two at once. */
export function startPoller(
  what: string,
  intervalMs: number,
  read: () => Promise<void>,
  log: Logger,
): Poller {
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  const run = (): void => {
    const running = read().then(
      () => {
        if (failing) log.info({ what }, 'metrics read works again');
        failing = false;
      },
      (err: unknown) => {
        if (!failing && !stopped)
          log.warn({ err, what }, 'metrics read failed; the gauges keep their last values');
        failing = true;
      },
    );
    void running.finally(() => {
      if (stopped) return;
      timer = setTimeout(run, intervalMs);
      timer.unref();
    });
  };
  run();
  return {
    // A read in flight is not waited for (it may be waiting for an API timeout): it may still
    // set the gauges once, and its failure is not logged.
    stop() {
      stopped = true;
      clearTimeout(timer);
      return Promise.resolve();
    },
  };
}

/** A durable consumer a process owns, and its `partition` label (`all` for a single one). */
export interface OwnedConsumer {
  durable: string;
  partition: string;
}

export interface ConsumerGaugesOptions {
  bus: Bus;
  stream: string;
  consumers: readonly OwnedConsumer[];
  metrics: Pick<Metrics, 'consumerPending' | 'consumerAckPending' | 'consumerDeliveredSequence'>;
  intervalMs: number;
  log: Logger;
}

/** `cairn_consumer_{pending,ack_pending}_messages` and `cairn_consumer_delivered_sequence`. */
export function startConsumerGauges(o: ConsumerGaugesOptions): Poller {
  // Label handles resolved once per consumer.
  const handles = o.consumers.map((c) => {
    const labels = [o.stream, c.partition];
    return {
      durable: c.durable,
      pending: o.metrics.consumerPending.labels(...labels),
      ackPending: o.metrics.consumerAckPending.labels(...labels),
      delivered: o.metrics.consumerDeliveredSequence.labels(...labels),
    };
  });
  return startPoller(
    `consumers of ${o.stream}`,
    o.intervalMs,
    async () => {
      const results = await Promise.allSettled(
        handles.map(async (h) => {
          const info = await o.bus.jsm.consumers.info(o.stream, h.durable);
          h.pending.set(info.num_pending);
          h.ackPending.set(info.num_ack_pending);
          h.delivered.set(info.delivered.stream_seq);
        }),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    o.log,
  );
}

/** `cairn_dlq_messages{stage}`: one stream info request per read. */
export function startDlqGauges(
  bus: Bus,
  metrics: Pick<Metrics, 'dlqMessages'>,
  intervalMs: number,
  log: Logger,
): Poller {
  return startPoller(
    'DLQ depth',
    intervalMs,
    async () => {
      for (const [stage, count] of await dlqDepths(bus.jsm)) metrics.dlqMessages.set({ stage }, count);
    },
    log,
  );
}
