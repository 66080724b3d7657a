// The handler of deliver.<p>: one send job -> one delivery attempt, classified into the
// runner's ack / retry(ms) / terminal(reason) (STYLE.md rules 4 and 6). Idempotency: a job
// whose delivery id is in KV `sent` is acked without sending.
import type { JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Dispatcher } from 'undici';

import {
  ack,
  DeliverJobMessage,
  retry,
  terminal,
  type DeliverJob,
  type DestinationCache,
  type HandlerContext,
  type Outcome,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import { nextDelayMs } from './backoff.js';
import type { NatsPublisher } from './nats-destination.js';
import { sendWebhook } from './webhook.js';

/** The value stored at `sent.<deliveryId>`. */
export interface SentRecord {
  v: 1;
  /** Unix ms when the destination accepted the delivery. */
  at: number;
  /** HTTP status, or 0 for a nats destination. */
  status: number;
}

export interface DeliverDeps {
  config: Pick<Config, 'maxDeliver' | 'sendTimeoutMs' | 'egressAllowLoopback'>;
  metrics: Pick<Metrics, 'deliveries' | 'deliveryLatency'>;
  sent: KV;
  destinations: Pick<DestinationCache, 'get'>;
  dispatcher: Dispatcher;
  nats: NatsPublisher;
  /** Delay between looks for a destination that does not exist (yet). */
  unknownDestinationRetryMs: number;
}

type Decoded = { job: DeliverJob } | { error: Error };

/** Decodes a job once per delivered message: keyOf and the handler share the result. */
export class JobDecoder {
  private readonly decoded = new WeakMap<JsMsg, Decoded>();

  of(msg: JsMsg): Decoded {
    let d = this.decoded.get(msg);
    if (!d) {
      try {
        d = { job: DeliverJobMessage.decode(msg.data) };
      } catch (err) {
        d = { error: err as Error };
      }
      this.decoded.set(msg, d);
    }
    return d;
  }

  /** The user key orders a user's sends; an undecodable job gets a key of its own. */
  keyOf(msg: JsMsg): string {
    const d = this.of(msg);
    return 'job' in d ? d.job.userKey : `bad:${msg.seq}`;
  }
}

export function deliverHandler(deps: DeliverDeps, decoder: JobDecoder) {
  const { metrics } = deps;
  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const d = decoder.of(msg);
    if ('error' in d) return terminal('bad_message', d.error.message);
    const job = d.job;
    const labels = { journey: job.stepKey.journeyId, destination: job.destination };
    const log = ctx.log.child({ deliveryId: job.deliveryId, destination: job.destination });

    const already = await deps.sent.get(job.deliveryId);
    if (already !== null && already.operation === 'PUT') {
      metrics.deliveries.inc({ ...labels, outcome: 'duplicate' });
      log.debug('already sent');
      return ack();
    }

    const dest = await deps.destinations.get(job.destination);
    if (!dest) {
      if (ctx.deliveryCount >= deps.config.maxDeliver) {
        metrics.deliveries.inc({ ...labels, outcome: 'unknown_destination' });
        return terminal('unknown_destination', `destination ${job.destination} does not exist`);
      }
      log.warn({ deliveryCount: ctx.deliveryCount }, 'unknown destination; retrying');
      return retry(deps.unknownDestinationRetryMs);
    }

    let status: number;
    if (dest.type === 'webhook') {
      const result = await sendWebhook(dest, job, {
        dispatcher: deps.dispatcher,
        timeoutMs: dest.timeoutMs ?? deps.config.sendTimeoutMs,
        allowInternal: deps.config.egressAllowLoopback,
      });
      if (result.kind === 'retry') {
        metrics.deliveries.inc({ ...labels, outcome: 'retry' });
        const delay = nextDelayMs(ctx.deliveryCount, result.retryAfterMs);
        log.warn(
          { detail: result.detail, deliveryCount: ctx.deliveryCount, delayMs: delay },
          'delivery failed; retrying',
        );
        return retry(delay);
      }
      if (result.kind === 'failed') {
        metrics.deliveries.inc({ ...labels, outcome: 'failed' });
        return terminal(result.reason, result.detail);
      }
      status = result.status;
    } else {
      try {
        await deps.nats.publish(dest, job);
      } catch (err) {
        metrics.deliveries.inc({ ...labels, outcome: 'retry' });
        log.warn({ err, deliveryCount: ctx.deliveryCount }, 'nats publish failed; retrying');
        return retry(nextDelayMs(ctx.deliveryCount, undefined));
      }
      status = 0;
    }

    // Recorded before the ack: a crash in between re-sends (at least once), never loses.
    const record: SentRecord = { v: 1, at: Date.now(), status };
    await deps.sent.put(job.deliveryId, new TextEncoder().encode(JSON.stringify(record)));
    metrics.deliveries.inc({ ...labels, outcome: 'ok' });
    metrics.deliveryLatency.observe(labels, Math.max(0, (record.at - job.eventReceivedAt) / 1_000));
    log.debug({ status }, 'delivered');
    return ack();
  };
}
