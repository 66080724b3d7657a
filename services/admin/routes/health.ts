// The health of each stage, read from the NATS server: per durable consumer the messages not
// yet delivered (pending), delivered and not yet acknowledged (ackPending) and the age of the
// oldest message not yet acknowledged (lagSeconds); the timers stored; the DLQ depth per stage;
// and the age of ingest's watermark (KV cairn_state), which holds back the timers when stale.
import type { FastifyInstance } from 'fastify';

import { dlqDepths, readWatermark, STREAMS, type Bus } from '../../../libs/bus/index.js';
import type { RouteContext } from '../app.js';

/** The stage that consumes each work stream. */
const STAGE_STREAMS = [
  { stage: 'ingest', stream: STREAMS.EVENTS },
  { stage: 'matcher', stream: STREAMS.MATCH },
  { stage: 'shadow', stream: STREAMS.SHADOW },
  { stage: 'sender', stream: STREAMS.DELIVER },
] as const;

export interface ConsumerHealth {
  stage: string;
  stream: string;
  consumer: string;
  pending: number;
  ackPending: number;
  /** Age of the oldest message not yet acknowledged; 0 when it is caught up. */
  lagSeconds?: number;
}

/** Seconds since the oldest message of `filter` after the ack floor was stored. */
async function oldestUnackedAge(bus: Bus, stream: string, filter: string, afterSeq: number, now: number) {
  // The server answers `next_by_subj` on a message get (2.9+); the client's type does not list it.
  const query = { seq: afterSeq + 1, next_by_subj: filter } as unknown as { seq: number };
  const m = await bus.jsm.streams.getMessage(stream, query);
  return m ? Math.max(0, (now - m.time.getTime()) / 1_000) : undefined;
}

export async function readHealth(bus: Bus, ingestShards: number, now = Date.now()) {
  const stages: ConsumerHealth[] = [];
  for (const { stage, stream } of STAGE_STREAMS) {
    for await (const ci of bus.jsm.consumers.list(stream)) {
      if (ci.config.durable_name === undefined) continue;
      const unacked = ci.num_pending + ci.num_ack_pending;
      let lagSeconds: number | undefined = 0;
      if (unacked > 0) {
        const filter = ci.config.filter_subject ?? '>';
        lagSeconds = await oldestUnackedAge(bus, stream, filter, ci.ack_floor.stream_seq, now).catch(
          () => undefined,
        );
      }
      stages.push({
        stage,
        stream,
        consumer: ci.config.durable_name,
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        ...(lagSeconds !== undefined && { lagSeconds: Math.round(lagSeconds * 1000) / 1000 }),
      });
    }
  }
  stages.sort(
    (a, b) => a.stage.localeCompare(b.stage) || a.consumer.localeCompare(b.consumer, 'en', { numeric: true }),
  );
  const timers = await bus.jsm.streams.info(STREAMS.TIMERS);
  const watermark = await readWatermark(bus, undefined, ingestShards).catch(() => undefined);
  return {
    stages,
    timers: { stored: timers.state.messages },
    dlq: Object.fromEntries(await dlqDepths(bus.jsm)),
    watermarkAgeSeconds: watermark === undefined ? null : Math.max(0, (now - watermark) / 1_000),
    nats: {
      connected: !bus.nc.isClosed(),
      server: bus.nc.info?.server_name ?? null,
      version: bus.nc.info?.version ?? null,
    },
  };
}

export function healthRoutes(api: FastifyInstance, ctx: RouteContext): void {
  api.get('/health', { config: { role: 'read' } }, () => readHealth(ctx.bus, ctx.config.ingestShards));
}
