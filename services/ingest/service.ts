// Ingest (NATS side): consumes `events.>` from stream EVENTS with one durable consumer per shard,
// validates and normalizes each Spec event, merges identify traits into KV `profiles`, routes the
// event to `match.<p>.event`, and publishes the watermark to KV `cairn_state`. With S shards
// (CAIRN_INGEST_SHARDS), shard s reads every event and routes those of partitions p mod S == s.
// Lifecycle (STYLE.md rule 9): starting -> ready -> draining -> stopped.
import { readFile } from 'node:fs/promises';

import type { JsMsg } from '@nats-io/jetstream';

import { parse as parseYaml } from 'yaml';

import {
  BUCKETS,
  partitionOf,
  startRunnerReady,
  startServerClock,
  STREAMS,
  subjects,
  type MessageKeys,
} from '../../libs/bus/index.js';
import { aliasTarget, parseAudienceDefinitions, type ComputedAudience } from '../../libs/events/index.js';
import { startConsumerGauges, type RunningService, type ServiceContext } from '../../libs/telemetry/index.js';
import { openDedupeStore } from './dedupe.js';
import { eventHandler, EventParser, receivedAtOf } from './event.js';
import { startHttpApi, type HttpApi } from './http.js';
import { IdentityOrder, userKeyOf } from './identity-order.js';
import { ingestMetrics } from './metrics.js';
import { RoutingTracker, startWatermarkPublisher } from './watermark.js';

export const INGEST_STAGE = 'ingest';
export const INGEST_DURABLE = 'ingest';

/** The durable consumer of ingest shard s: `ingest` for shard 0 (as before shards), else
 * `ingest-s<s>`. */
export const ingestDurable = (shard: number): string =>
  shard === 0 ? INGEST_DURABLE : `${INGEST_DURABLE}-s${shard}`;
export const INGEST_SUBJECT = 'events.>';

/** The shared service context (libs/telemetry lifecycle). */
export type IngestContext = ServiceContext;

export interface IngestOptions {
  /** Events handled at once (default 64). */
  concurrency?: number;
  /** Watermark period (default 200 ms). */
  watermarkIntervalMs?: number;
  /** Serve the HTTP Tracking API on CAIRN_HTTP_PORT (the ingest process and `cairn up` do; tests
   * that only need the NATS side leave it off), or on the given port. */
  http?: boolean | { port: number };
  /** This host's clock (default Date.now): tests inject a skewed one. */
  now?: () => number;
}

/** The computed audiences of CAIRN_AUDIENCES_FILE (YAML or JSON); none when unset. */
export async function loadAudiences(file: string | undefined): Promise<ComputedAudience[]> {
  if (file === undefined) return [];
  const text = await readFile(file, 'utf8');
  try {
    return parseAudienceDefinitions(parseYaml(text));
  } catch (err) {
    throw new Error(`CAIRN_AUDIENCES_FILE ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export interface Ingest extends RunningService {
  /** The port of the HTTP Tracking API, when it is served. */
  httpPort: number | undefined;
}

export async function startIngest(ctx: IngestContext, opts: IngestOptions = {}): Promise<Ingest> {
  const { config, bus, metrics } = ctx;
  if (config.ingestShard === undefined) {
    throw new Error(
      `CAIRN_INGEST_SHARD is unset and HOSTNAME has no -<ordinal> suffix below CAIRN_INGEST_SHARDS=${config.ingestShards}; set CAIRN_INGEST_SHARD (0 to ${config.ingestShards - 1}), or run ingest in a StatefulSet (HOSTNAME like cairn-ingest-1)`,
    );
  }
  const shard = { index: config.ingestShard, count: config.ingestShards };
  const durable = ingestDurable(shard.index);
  const log = ctx.logger.child(
    shard.count > 1 ? { service: INGEST_STAGE, shard: shard.index } : { service: INGEST_STAGE },
  );
  const profiles = await bus.store(BUCKETS.profiles);
  const parser = new EventParser();
  const tracker = new RoutingTracker(config.partitions);
  const identity = new IdentityOrder(profiles);
  const audiences = await loadAudiences(config.audiencesFile);
  const dedupe = await openDedupeStore(bus, { windowMs: config.ingestDedupeWindowMs });
  const own = ingestMetrics(metrics.registry);
  let draining = false;
  const handle = eventHandler({
    bus,
    config,
    metrics,
    profiles,
    parser,
    audiences,
    ingestMetrics: own,
    canonicalOf: (seq) => identity.canonicalOf(seq),
    canonicalAt: (seq, userKey) => identity.canonicalAt(seq, userKey),
    shard,
    stopping: () => draining,
    ...(dedupe ? { dedupe } : {}),
  });

  // Serialized by canonical user, resolved on arrival in stream order (identity-order.ts); an
  // event holds back the watermark of its canonical user's partition only, once that is known.
  const keyOf = (msg: JsMsg): MessageKeys | Promise<MessageKeys> => {
    // The runner sends a message past its budget to the DLQ without calling the handler.
    if (msg.info.deliveryCount <= config.maxDeliver) tracker.begin(msg.seq, receivedAtOf(msg));
    const result = parser.eventOf(msg);
    if (!result?.ok) return `s:${msg.subject}`;
    const event = result.event;
    const alias = aliasTarget(event);
    return identity.resolve(msg.seq, event.userKey, alias).then(
      ({ keys, canonical }) => {
        tracker.route(msg.seq, partitionOf(canonical, config.partitions));
        return keys;
      },
      (err: unknown) => {
        // Its partition stays unknown (it holds every one back); the handler resolves again.
        log.warn({ err, seq: msg.seq }, 'identity lookup on arrival failed; keyed by the ids it carries');
        return alias ? [userKeyOf(alias.from), userKeyOf(alias.to)] : userKeyOf(event.userKey);
      },
    );
  };

  const runner = await startRunnerReady({
    bus,
    stream: STREAMS.EVENTS,
    stage: INGEST_STAGE,
    subjects: [INGEST_SUBJECT],
    durableName: () => durable,
    keyOf,
    // Routed, dead-lettered, or gone from EVENTS while its redelivery was awaited.
    onSettled: (seq) => {
      tracker.end(seq);
      identity.settle(seq);
    },
    handler: async (msg, hctx) => {
      try {
        return await handle(msg, hctx);
      } finally {
        parser.forget(msg);
      }
    },
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.ackWaitMs,
    concurrency: opts.concurrency ?? 64,
    dlqSubject: subjects.dlq(INGEST_STAGE),
    logger: log,
    metrics,
  });
  const lag = startConsumerGauges({
    bus,
    stream: STREAMS.EVENTS,
    // One consumer per shard: `all` with one shard, `shard<s>` with several.
    consumers: [{ durable, partition: shard.count > 1 ? `shard${shard.index}` : 'all' }],
    metrics,
    intervalMs: config.metricsIntervalMs,
    log,
  });
  const clock = await startServerClock({
    bus,
    ...(opts.now ? { localNow: opts.now } : {}),
    maxSkewMs: config.maxClockSkewMs,
    log,
    metrics,
  });
  const watermark = await startWatermarkPublisher({
    bus,
    tracker,
    durableName: durable,
    shard,
    recovering: () => runner.isRecovering(),
    now: () => clock.now(),
    log,
    ...(opts.watermarkIntervalMs !== undefined ? { intervalMs: opts.watermarkIntervalMs } : {}),
  });
  let http: HttpApi | undefined;
  if (opts.http) {
    try {
      http = await startHttpApi({
        port: opts.http === true ? config.httpPort : opts.http.port,
        bus,
        writeKeys: config.writeKeys,
        connections: {
          headersTimeoutMs: config.httpHeadersTimeoutMs,
          requestTimeoutMs: config.httpRequestTimeoutMs,
          maxConnections: config.httpMaxConnections,
          maxConnectionsPerIp: config.httpMaxConnectionsPerIp,
        },
        registry: metrics.registry,
        metrics: own,
        isReady: () => !draining && runner.isReady(),
        log,
      });
    } catch (err) {
      await watermark.stop();
      clock.stop();
      await lag.stop();
      await runner.stop(0);
      const port = opts.http === true ? config.httpPort : opts.http.port;
      throw new Error(
        `cannot serve the HTTP Tracking API on port ${port}: ${(err as Error).message}; set CAIRN_HTTP_PORT to a free port`,
        { cause: err },
      );
    }
  }
  log.info(
    { audiences: audiences.length, httpPort: http?.port, shard: shard.index, shards: shard.count, durable },
    'ingest ready',
  );

  let stopped: Promise<void> | undefined;
  return {
    httpPort: http?.port,
    isReady: () => runner.isReady(),
    stop(graceMs) {
      stopped ??= (async () => {
        log.info({ graceMs }, 'ingest draining');
        draining = true;
        // HTTP first: requests in flight finish (their events are acked into EVENTS), new ones get 503.
        await http?.close();
        // Then the watermark: it must not advance past events naked back on stop.
        await watermark.stop();
        clock.stop();
        await lag.stop();
        await runner.stop(graceMs);
        log.info('ingest stopped');
      })();
      return stopped;
    },
  };
}
