// Ingest (NATS side): consumes `events.>` from stream EVENTS with one durable consumer, validates
// and normalizes each Spec event, merges identify traits into KV `profiles`, routes the event to
// `match.<p>.event`, and publishes the watermark to KV `cairn_state`.
// Lifecycle (STYLE.md rule 9): starting -> ready -> draining -> stopped.
import { BUCKETS, startRunner, STREAMS, subjects } from '../../libs/bus/index.js';
import type { RunningService, ServiceContext } from '../../libs/telemetry/index.js';
import { eventHandler, EventParser, receivedAtOf } from './event.js';
import { RoutingTracker, startWatermarkPublisher } from './watermark.js';

export const INGEST_STAGE = 'ingest';
export const INGEST_DURABLE = 'ingest';
export const INGEST_SUBJECT = 'events.>';

/** The shared service context (libs/telemetry lifecycle). */
export type IngestContext = ServiceContext;

export interface IngestOptions {
  /** Events handled at once (default 64). */
  concurrency?: number;
  /** Watermark period (default 200 ms). */
  watermarkIntervalMs?: number;
}

export type Ingest = RunningService;

export async function startIngest(ctx: IngestContext, opts: IngestOptions = {}): Promise<Ingest> {
  const { config, bus, metrics } = ctx;
  const log = ctx.logger.child({ service: INGEST_STAGE });
  const profiles = await bus.kv(BUCKETS.profiles);
  const parser = new EventParser();
  const tracker = new RoutingTracker();
  const handle = eventHandler({ bus, config, metrics, profiles, parser });

  const runner = startRunner({
    bus,
    stream: STREAMS.EVENTS,
    stage: INGEST_STAGE,
    subjects: [INGEST_SUBJECT],
    durableName: () => INGEST_DURABLE,
    keyOf: (msg) => {
      // The runner sends a message past its budget to the DLQ without calling the handler.
      if (msg.info.deliveryCount <= config.maxDeliver) tracker.begin(msg.seq, receivedAtOf(msg));
      return parser.keyOf(msg);
    },
    handler: async (msg, hctx) => {
      let done = true;
      try {
        const outcome = await handle(msg, hctx);
        // A retried event is still unrouted, unless this was its last delivery (-> DLQ).
        if (outcome.kind === 'retry' && hctx.deliveryCount < config.maxDeliver) done = false;
        return outcome;
      } catch (err) {
        if (hctx.deliveryCount < config.maxDeliver) done = false;
        throw err;
      } finally {
        if (done) tracker.end(msg.seq);
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
  try {
    await runner.ready;
  } catch (err) {
    await runner.stop(0);
    throw err;
  }
  const watermark = await startWatermarkPublisher({
    bus,
    tracker,
    durableName: INGEST_DURABLE,
    log,
    ...(opts.watermarkIntervalMs !== undefined ? { intervalMs: opts.watermarkIntervalMs } : {}),
  });
  log.info('ingest ready');

  let stopped: Promise<void> | undefined;
  return {
    isReady: () => runner.isReady(),
    stop(graceMs) {
      stopped ??= (async () => {
        log.info({ graceMs }, 'ingest draining');
        // The watermark stops first: it must not advance past events naked back on stop.
        await watermark.stop();
        await runner.stop(graceMs);
        log.info('ingest stopped');
      })();
      return stopped;
    },
  };
}
