// The shadow stage: the shadow versions' inputs on a stream of their own (SHADOW), so that a
// shadow never delays or changes the live version's decisions. The live handlers forward them
// (shadow-forward.ts); its own partition runners (stage `shadow`: its own durable consumers `shadow-p<n>` and leases)
// apply them with shadow.ts, per user in stream order as live; a failing input is retried and
// dead-lettered on `dlq.shadow`, never touching the live version.
import type { JsMsg } from '@nats-io/jetstream';

import {
  ack,
  misrouted,
  ShadowEventMessage,
  STREAMS,
  startPartitionRunners,
  subjects,
  terminal,
  TimerMessage,
  type Outcome,
  type PartitionRunners,
  type TimerRecord,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import type { Logger, Metrics } from '../../libs/telemetry/index.js';
import { UnknownVersionError } from './catalog.js';
import { cachedDecoder } from './decode.js';
import { partitionOfSubject } from './event.js';
import { shadowEvent, shadowTimer, type ShadowContext } from './shadow.js';

export const SHADOW_STAGE = 'shadow';
/** Handlers in flight over the shadow's partitions (the live matcher runs 64). */
export const SHADOW_CONCURRENCY = 32;

type Decoded =
  | { kind: 'event'; value: ReturnType<typeof ShadowEventMessage.decode> }
  | { kind: 'timer'; value: TimerRecord }
  | { kind: 'bad'; error: Error };

const decoder = (): ((msg: JsMsg) => Decoded) =>
  cachedDecoder<Decoded>(
    (msg) =>
      msg.subject.endsWith('.timer')
        ? { kind: 'timer', value: TimerMessage.decode(msg.data) }
        : msg.subject.endsWith('.event')
          ? { kind: 'event', value: ShadowEventMessage.decode(msg.data) }
          : { kind: 'bad', error: new Error(`unexpected subject ${msg.subject}`) },
    (error) => ({ kind: 'bad', error }),
  );

const userKeyOf = (d: Exclude<Decoded, { kind: 'bad' }>): string =>
  d.kind === 'event' ? d.value.event.userKey : d.value.userKey;

/** The shadow consumer's handler: one forwarded input applied to the shadow versions. */
export function shadowHandler(
  ctx: ShadowContext,
  partitions: number,
  decode: (msg: JsMsg) => Decoded,
): (msg: JsMsg) => Promise<Outcome> {
  return async (msg) => {
    const d = decode(msg);
    if (d.kind === 'bad') return terminal('bad_message', d.error.message);
    const wrong = misrouted(msg.subject, userKeyOf(d), partitions);
    if (wrong !== undefined) return terminal('wrong_partition', wrong);
    const partition = partitionOfSubject(msg.subject);
    try {
      // A shadow version being published is waited for, as live.
      await ctx.catalog.current();
      if (d.kind === 'timer') await shadowTimer(ctx, d.value, partition);
      else await shadowEvent(ctx, d.value.event, partition, { eventsLastSecond: d.value.eventsLastSecond });
      return ack();
    } catch (err) {
      if (err instanceof UnknownVersionError) return terminal('unknown_version', err.message);
      // Retried by the runner (backoff), dead-lettered past CAIRN_MAX_DELIVER.
      throw err;
    }
  };
}

/** One runner per owned partition on SHADOW, each while this process holds its `shadow` lease. */
export function startShadowRunners(opts: {
  ctx: ShadowContext;
  config: Config;
  partitions: number[];
  log: Logger;
  metrics: Metrics;
}): Promise<PartitionRunners> {
  const { ctx, config } = opts;
  const decode = decoder();
  return startPartitionRunners({
    bus: ctx.bus,
    stream: STREAMS.SHADOW,
    stage: SHADOW_STAGE,
    partitions: opts.partitions,
    subjectOf: (p) => subjects.shadowPartition(p),
    leaseTtlMs: config.leaseTtlMs,
    keyOf: (msg) => {
      const d = decode(msg);
      return d.kind === 'bad' ? `bad:${msg.seq}` : userKeyOf(d);
    },
    handler: shadowHandler(ctx, config.partitions, decode),
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.ackWaitMs,
    concurrency: SHADOW_CONCURRENCY,
    dlqSubject: subjects.dlq(SHADOW_STAGE),
    logger: opts.log.child({ stage: SHADOW_STAGE }),
    metrics: opts.metrics,
  });
}
