// The matcher: applies events and fired timers to journey instances for the owned partitions
// (DESIGN.md §2). One durable consumer per partition on `match.<p>.*`, per-user ordering by the
// shared runner (STYLE.md rule 4); each input is decided by the pure core, committed by CAS, and
// its commands published with deterministic ids. The journeys' shadow versions get the inputs
// forwarded on `shadow.<p>.*`, consumed by a second set of runners (shadow-stage.ts).
// Lifecycle (STYLE.md rule 9): starting (journeys loaded, consumers created) -> ready ->
// draining (stop pulling, finish in-flight inputs within the grace period) -> stopped.
import type { JsMsg } from '@nats-io/jetstream';

import {
  ArchiveNoticeMessage,
  BUCKETS,
  defaultDurableName,
  MatchEventMessage,
  misrouted,
  STREAMS,
  startPartitionRunners,
  subjects,
  terminal,
  TimerMessage,
  type Outcome,
} from '../../libs/bus/index.js';
import { ownedPartitions } from '../../libs/config/index.js';
import { startConsumerGauges, type ServiceContext } from '../../libs/telemetry/index.js';
import type { ApplyContext } from './apply.js';
import { archiveHandler } from './archive.js';
import { cachedDecoder } from './decode.js';
import { JourneyCatalog, UnknownVersionError } from './catalog.js';
import { eventHandler } from './event.js';
import { startInsight } from './insight.js';
import { userLimitRefusals, UserRateWindow } from './rate.js';
import { instancesRetired } from './retention.js';
import { shadowMetrics } from './shadow.js';
import { SHADOW_STAGE, startShadowRunners } from './shadow-stage.js';
import { timerHandler } from './timer.js';

export const MATCHER_STAGE = 'matcher';
export const MATCHER_CONCURRENCY = 64;

/** The shared service context (libs/telemetry lifecycle). */
export type MatcherContext = ServiceContext;

export interface Matcher {
  isReady(): boolean;
  /** The active version of a journey as the matcher sees it (undefined: none, or not loaded yet). */
  activeVersion(journeyId: string): number | undefined;
  stop(graceMs: number): Promise<void>;
}

type Decoded =
  | { kind: 'event'; value: ReturnType<typeof MatchEventMessage.decode> }
  | { kind: 'timer'; value: ReturnType<typeof TimerMessage.decode> }
  | { kind: 'archive'; value: ReturnType<typeof ArchiveNoticeMessage.decode> }
  | { kind: 'bad'; error: Error };

/** Decodes once per message: keyOf needs the user key, the handler the rest. */
const decoder = (): ((msg: JsMsg) => Decoded) =>
  cachedDecoder<Decoded>(
    (msg) =>
      msg.subject.endsWith('.timer')
        ? { kind: 'timer', value: TimerMessage.decode(msg.data) }
        : msg.subject.endsWith('.event')
          ? { kind: 'event', value: MatchEventMessage.decode(msg.data) }
          : msg.subject.endsWith('.archive')
            ? { kind: 'archive', value: ArchiveNoticeMessage.decode(msg.data) }
            : { kind: 'bad', error: new Error(`unexpected subject ${msg.subject}`) },
    (error) => ({ kind: 'bad', error }),
  );

export async function startMatcher(ctx: MatcherContext): Promise<Matcher> {
  const { config, bus, metrics } = ctx;
  const log = ctx.logger.child({ service: MATCHER_STAGE });
  // Listed on /metrics from the start, before their first count.
  userLimitRefusals(metrics.registry);
  instancesRetired(metrics.registry);
  shadowMetrics(metrics.registry);
  const catalog = new JourneyCatalog(bus, log);
  await catalog.start();
  const applyCtx: ApplyContext = {
    bus,
    metrics,
    timerBucketMs: config.timerBucketMs,
    instanceRetentionMs: config.instanceRetentionMs,
    instances: await bus.store(BUCKETS.instances),
    userInstances: await bus.store(BUCKETS.userInstances),
    catalog,
  };
  const handlerCtx = {
    ...applyCtx,
    profiles: await bus.store(BUCKETS.profiles),
    rate: new UserRateWindow(),
    log,
  };
  const decode = decoder();
  const onEvent = eventHandler(handlerCtx, (msg) => {
    const d = decode(msg);
    if (d.kind === 'event') return d.value;
    throw d.kind === 'bad' ? d.error : new Error('not an event');
  });
  const onTimer = timerHandler(handlerCtx, (msg) => {
    const d = decode(msg);
    if (d.kind === 'timer') return d.value;
    throw d.kind === 'bad' ? d.error : new Error('not a timer');
  });

  const onArchive = archiveHandler(handlerCtx, (msg) => {
    const d = decode(msg);
    if (d.kind === 'archive') return d.value;
    throw d.kind === 'bad' ? d.error : new Error('not an archive notice');
  });

  const handler = async (msg: JsMsg): Promise<Outcome> => {
    // Defence in depth behind the NATS authorization: an input is acted on only on its user's
    // partition (where Cairn routes it), so a forged or misrouted one cannot race the real ones.
    const d = decode(msg);
    if (d.kind !== 'bad') {
      const wrong = misrouted(
        msg.subject,
        d.kind === 'event' ? d.value.event.userKey : d.value.userKey,
        config.partitions,
      );
      if (wrong !== undefined) return terminal('wrong_partition', wrong);
    }
    try {
      // A journey version being published is waited for: never decided as "no journey".
      await catalog.current();
      return await (msg.subject.endsWith('.timer')
        ? onTimer(msg)
        : msg.subject.endsWith('.archive')
          ? onArchive(msg)
          : onEvent(msg));
    } catch (err) {
      // A version missing from the registry will not appear by retrying.
      if (err instanceof UnknownVersionError) return terminal('unknown_version', err.message);
      throw err;
    }
  };

  // One runner per owned partition, each while this process holds the partition's lease: two
  // replicas with one ordinal (a rolling update) never consume one partition at once.
  const partitions = ownedPartitions(config);
  const runner = await startPartitionRunners({
    bus,
    stream: STREAMS.MATCH,
    stage: MATCHER_STAGE,
    partitions,
    subjectOf: (p) => subjects.matchPartition(p),
    leaseTtlMs: config.leaseTtlMs,
    keyOf: (msg) => {
      const d = decode(msg);
      // Undecodable: a key of its own, and the handler moves it to the DLQ as bad_message.
      return d.kind === 'bad'
        ? `bad:${msg.seq}`
        : d.value.kind === 'event'
          ? d.value.event.userKey
          : d.value.userKey;
    },
    handler,
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.ackWaitMs,
    concurrency: MATCHER_CONCURRENCY,
    dlqSubject: subjects.dlq(MATCHER_STAGE),
    logger: log,
    metrics,
  }).catch(async (err: unknown) => {
    await catalog.stop();
    throw err;
  });
  // The shadow versions' inputs, forwarded by the live handlers: their own runners, consumers
  // and leases, so that a slow or failing shadow never holds a live input (shadow-stage.ts).
  const shadowRunner = await startShadowRunners({ ctx: handlerCtx, config, partitions, log, metrics }).catch(
    async (err: unknown) => {
      await runner.stop(0);
      await catalog.stop();
      throw err;
    },
  );
  const lagOf = (stream: string, stage: string, subjectOf: (p: number) => string) =>
    startConsumerGauges({
      bus,
      stream,
      consumers: partitions.map((p) => ({
        durable: defaultDurableName(stage, subjectOf(p)),
        partition: String(p),
      })),
      metrics,
      intervalMs: config.metricsIntervalMs,
      log,
    });
  const lag = lagOf(STREAMS.MATCH, MATCHER_STAGE, subjects.matchPartition);
  const shadowLag = lagOf(STREAMS.SHADOW, SHADOW_STAGE, subjects.shadowPartition);
  // The journal's counts per journey version (cairn journey stats), in one matcher at a time.
  const insight = await startInsight(ctx).catch(async (err: unknown) => {
    await lag.stop();
    await shadowLag.stop();
    await runner.stop(0);
    await shadowRunner.stop(0);
    await catalog.stop();
    throw err;
  });
  log.info({ partitions: partitions.length, held: runner.held().length }, 'matcher ready');

  let stopped: Promise<void> | undefined;
  return {
    isReady: () => runner.isReady() && shadowRunner.isReady(),
    activeVersion: (id) => (catalog.active(id) ? catalog.activeVersion(id) : undefined),
    stop(graceMs) {
      stopped ??= (async () => {
        log.info({ graceMs }, 'matcher draining');
        await lag.stop();
        await shadowLag.stop();
        await insight.stop();
        // Both within the one grace period: a live input still forwarding publishes to SHADOW,
        // which keeps it for the next shadow consumer whether this one runs or not.
        await Promise.all([runner.stop(graceMs), shadowRunner.stop(graceMs)]);
        await catalog.stop();
        log.info('matcher stopped');
      })();
      return stopped;
    },
  };
}
