// The sender: consumes deliver.<p> for the owned partitions and delivers each job to its
// destination (webhook or nats), at least once and deduplicated by KV `sent`.
// Lifecycle (STYLE.md rule 9, README.md): starting -> ready -> draining -> stopped.
import { Agent } from 'undici';

import {
  BUCKETS,
  defaultDurableName,
  DestinationCache,
  newLeaseHolder,
  startPartitionRunners,
  STREAMS,
  subjects,
} from '../../libs/bus/index.js';
import { ownedPartitions } from '../../libs/config/index.js';
import { startConsumerGauges, type RunningService, type ServiceContext } from '../../libs/telemetry/index.js';
import { attemptMetrics } from './attempt-metrics.js';
import { CIRCUIT_REPORT_MS, CircuitReporter } from './circuit-report.js';
import { DELIVER_DLQ_SUBJECT } from './dead-letter.js';
import { deliverHandler, JobDecoder, systemClock, type SenderClock } from './deliver.js';
import { EgressPolicy } from './egress.js';
import { DestinationGates } from './isolation.js';
import { NatsPublisher } from './nats-destination.js';
import { SHORT_WAIT_MS } from './park.js';

export const SENDER_STAGE = 'sender';
/** Default wait between looks for a destination that does not exist. */
export const UNKNOWN_DESTINATION_RETRY_MS = 30_000;

/** The shared service context (libs/telemetry lifecycle). */
export type SenderContext = ServiceContext;

export interface SenderOptions {
  /** Jobs handled at once (default 64). */
  concurrency?: number;
  unknownDestinationRetryMs?: number;
  /** Time and randomness (tests inject a clock that can jump ahead). */
  clock?: SenderClock;
  /** Waits up to this long go back on deliver.<p>; longer ones through the timer service. */
  shortWaitMs?: number;
  /** How often a breaker that is not closed is written to KV again (default 10 s). */
  circuitReportMs?: number;
}

export type Sender = RunningService;

export async function startSender(ctx: SenderContext, opts: SenderOptions = {}): Promise<Sender> {
  const { config, bus, metrics } = ctx;
  const log = ctx.logger.child({ service: SENDER_STAGE });
  const destinations = new DestinationCache(bus, log);
  await destinations.start();
  const sent = await bus.store(BUCKETS.sent);
  const egress = EgressPolicy.fromConfig(config);
  const dispatcher = new Agent({
    connect: egress.open
      ? { timeout: config.sendTimeoutMs }
      : { timeout: config.sendTimeoutMs, lookup: egress.lookup },
  });
  const decoder = new JobDecoder();
  const clock = opts.clock ?? systemClock;
  const circuits = new CircuitReporter(
    bus,
    newLeaseHolder(SENDER_STAGE),
    log,
    () => clock.now(),
    opts.circuitReportMs ?? CIRCUIT_REPORT_MS,
  );
  circuits.start();

  const handler = deliverHandler(
    {
      config,
      metrics,
      attemptMetrics: attemptMetrics(metrics.registry),
      bus,
      stage: SENDER_STAGE,
      sent,
      destinations,
      dispatcher,
      egress,
      nats: new NatsPublisher(bus),
      gates: new DestinationGates(),
      circuits,
      park: { bus, timerBucketMs: config.timerBucketMs, shortWaitMs: opts.shortWaitMs ?? SHORT_WAIT_MS },
      clock,
      unknownDestinationRetryMs: opts.unknownDestinationRetryMs ?? UNKNOWN_DESTINATION_RETRY_MS,
    },
    decoder,
  );

  const partitions = ownedPartitions(config);
  // One runner per owned partition, each while this process holds the partition's lease.
  const runner = await startPartitionRunners({
    bus,
    stream: STREAMS.DELIVER,
    stage: SENDER_STAGE,
    partitions,
    subjectOf: (p) => subjects.deliver(p),
    leaseTtlMs: config.leaseTtlMs,
    keyOf: (msg) => decoder.keyOf(msg),
    handler,
    maxDeliver: config.maxDeliver,
    // The runner keeps in-flight messages alive; this only bounds a crashed replica's hold.
    ackWaitMs: config.ackWaitMs,
    concurrency: opts.concurrency ?? 64,
    dlqSubject: DELIVER_DLQ_SUBJECT,
    logger: log,
    metrics,
  }).catch(async (err: unknown) => {
    await circuits.stop();
    await destinations.stop();
    await dispatcher.close();
    throw err;
  });
  const lag = startConsumerGauges({
    bus,
    stream: STREAMS.DELIVER,
    consumers: partitions.map((p) => ({
      durable: defaultDurableName(SENDER_STAGE, subjects.deliver(p)),
      partition: String(p),
    })),
    metrics,
    intervalMs: config.metricsIntervalMs,
    log,
  });
  log.info({ partitions, held: runner.held() }, 'sender ready');

  let stopped: Promise<void> | undefined;
  return {
    isReady: () => runner.isReady(),
    stop(graceMs) {
      stopped ??= (async () => {
        log.info({ graceMs }, 'sender draining');
        await lag.stop();
        await runner.stop(graceMs);
        await circuits.stop();
        await destinations.stop();
        // Work still in flight after the grace period is cut off; its message is redelivered.
        await dispatcher.destroy();
        log.info('sender stopped');
      })();
      return stopped;
    },
  };
}
