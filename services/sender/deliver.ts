// The handler of deliver.<p>: one send job -> at most one delivery attempt, classified into the
// runner's ack / retry(ms) / terminal(reason) (STYLE.md rules 4 and 6). Idempotency: a job
// whose delivery id is in KV `sent` is acked without sending. Retries and deferrals re-publish
// the job (park.ts) and ack the copy in hand; exhaustion and refusals go to `dlq.deliver` with
// the attempt history (dead-letter.ts).
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import {
  ack,
  DEFAULT_RETRY_BUDGET_MS,
  DeliverJobMessage,
  disableDestination,
  misrouted,
  retry,
  terminal,
  type Bus,
  type DeliverJob,
  type DeliveryAttempt,
  type Destination,
  type DestinationCache,
  type HandlerContext,
  type Outcome,
  type KvStore,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import { statusClass, type AttemptMetrics } from './attempt-metrics.js';
import { nextDelayMs } from './backoff.js';
import type { CircuitReporter } from './circuit-report.js';
import { deadLetter } from './dead-letter.js';
import type { DestinationGates } from './isolation.js';
import type { NatsPublisher } from './nats-destination.js';
import { parkJob, partitionOfSubject, type ParkOptions } from './park.js';
import type { EgressPolicy } from './egress.js';
import { sendWebhook, type AttemptResult } from './webhook.js';

/** The value stored at `sent.<deliveryId>`. */
export interface SentRecord {
  v: 1;
  /** Unix ms when the destination accepted the delivery. */
  at: number;
  /** HTTP status, or 0 for a nats destination. */
  status: number;
}

/** Time and randomness of the sender, injectable for tests (STYLE.md: fake clocks). */
export interface SenderClock {
  now(): number;
  random(): number;
}

export const systemClock: SenderClock = { now: () => Date.now(), random: Math.random };

const utf8 = new TextEncoder();

/** Added to a deferral so that parked jobs do not all come back at the same instant. */
const DEFER_JITTER_MS = 250;

export interface DeliverDeps {
  config: Pick<Config, 'maxDeliver' | 'sendTimeoutMs' | 'partitions'>;
  /** Which addresses webhooks may reach (literal IPs are checked here, names at connect). */
  egress: EgressPolicy;
  metrics: Pick<Metrics, 'deliveries' | 'deliveryLatency' | 'deliveryEventLatency'>;
  attemptMetrics: AttemptMetrics;
  bus: Bus;
  stage: string;
  sent: KvStore;
  destinations: Pick<DestinationCache, 'get'>;
  dispatcher: Dispatcher;
  nats: NatsPublisher;
  gates: DestinationGates;
  /** Publishes breaker states for the admin API (absent: kept in memory only). */
  circuits?: CircuitReporter;
  park: ParkOptions;
  clock: SenderClock;
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

  /**
   * Sends of one user to one destination go in order; other destinations are independent keys,
   * so that a job waiting on a failing destination never holds back a healthy one.
   */
  keyOf(msg: JsMsg): string {
    const d = this.of(msg);
    return 'job' in d ? `${d.job.destination}|${d.job.userKey}` : `bad:${msg.seq}`;
  }
}

export function deliverHandler(deps: DeliverDeps, decoder: JobDecoder) {
  const { metrics, clock } = deps;
  const am = deps.attemptMetrics;
  /** The circuit gauge as last set, per destination: set again only when it changes. */
  const circuitShown = new Map<string, number>();

  /** Waits without an attempt: a nak for a short wait while the delivery budget allows, else a
   * re-published copy (see park.ts). */
  const defer = async (msg: JsMsg, ctx: HandlerContext, job: DeliverJob, until: number): Promise<Outcome> => {
    const now = clock.now();
    const wait = Math.max(0, until - now);
    ctx.debug({ deliveryId: job.deliveryId, waitMs: wait, deliveryCount: ctx.deliveryCount }, 'deferred');
    if (wait <= deps.park.shortWaitMs && ctx.deliveryCount < deps.config.maxDeliver - 1) return retry(wait);
    const copy: DeliverJob = { ...job, notBefore: now + wait };
    await parkJob(
      deps.park,
      partitionOfSubject(msg.subject),
      copy,
      `${job.deliveryId}:a${job.attempt ?? 1}:s${msg.seq}`,
      now,
    );
    return ack();
  };

  const toDlq = async (
    msg: JsMsg,
    job: DeliverJob,
    reason: string,
    detail: string,
    log: Logger,
  ): Promise<Outcome> => {
    await deadLetter(deps.bus, msg, deps.stage, job, reason, detail, clock.now());
    am.exhausted.inc({ destination: job.destination, reason });
    log.warn({ reason, detail, attempts: job.attempts?.length ?? 0 }, 'delivery moved to dlq.deliver');
    return ack();
  };

  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const d = decoder.of(msg);
    if ('error' in d) return terminal('bad_message', d.error.message);
    const job = d.job;
    // The matcher publishes a user's jobs on the user's partition: one elsewhere was not.
    const wrong = misrouted(msg.subject, job.userKey, deps.config.partitions);
    if (wrong !== undefined) return terminal('wrong_partition', wrong);
    const labels = { journey: job.stepKey.journeyId, destination: job.destination };
    // Built on first use: the common path (delivered) logs at debug only.
    let child: Logger | undefined;
    const log = (): Logger =>
      (child ??= ctx.log.child({ deliveryId: job.deliveryId, destination: job.destination }));
    const debug = (obj: object, text: string): void =>
      ctx.debug({ deliveryId: job.deliveryId, destination: job.destination, ...obj }, text);

    const dest = await deps.destinations.get(job.destination);
    if (!dest) {
      if (ctx.deliveryCount >= deps.config.maxDeliver) {
        metrics.deliveries.inc({ ...labels, outcome: 'unknown_destination' });
        return toDlq(msg, job, 'unknown_destination', `destination ${job.destination} does not exist`, log());
      }
      log().warn({ deliveryCount: ctx.deliveryCount }, 'unknown destination; retrying');
      return retry(deps.unknownDestinationRetryMs);
    }
    if (dest.disabled !== undefined) {
      metrics.deliveries.inc({ ...labels, outcome: 'failed' });
      return toDlq(msg, job, 'destination_disabled', `disabled: ${dest.disabled.reason}`, log());
    }

    let now = clock.now();
    if (job.notBefore !== undefined && job.notBefore > now) {
      am.deferrals.inc({ destination: dest.id, reason: 'not_due' });
      return defer(msg, ctx, job, job.notBefore);
    }
    const admission = await deps.gates.admitOrWait(
      dest,
      () => clock.now(),
      () => clock.random(),
    );
    now = clock.now();
    if (!admission.ok) {
      am.deferrals.inc({ destination: dest.id, reason: admission.reason });
      debug({ reason: admission.reason }, 'not admitted');
      return defer(msg, ctx, job, admission.retryAt + Math.floor(clock.random() * DEFER_JITTER_MS));
    }
    // Checked once admitted, right before the attempt: a parked job costs no KV read each time
    // it comes round.
    const already = await deps.sent.get(job.deliveryId).catch((err: unknown) => {
      admission.release();
      deps.gates.circuit(dest, now).releaseProbe();
      throw err;
    });
    if (already !== null && already.operation === 'PUT') {
      admission.release();
      deps.gates.circuit(dest, now).releaseProbe();
      metrics.deliveries.inc({ ...labels, outcome: 'duplicate' });
      debug({}, 'already sent');
      return ack();
    }

    const n = job.attempt ?? 1;
    const firstAttemptAt = job.firstAttemptAt ?? now;
    let result: AttemptResult;
    const started = now;
    try {
      result = await attempt(deps, dest, job);
    } finally {
      admission.release();
    }
    now = clock.now();
    const circuit = deps.gates.circuit(dest, now);
    if (result.kind === 'ok' || result.kind === 'retry') {
      if (circuit.record(result.kind === 'ok', now))
        log().warn({ window: circuit.window() }, 'circuit opened');
    } else {
      // A refusal says nothing about the destination's health; free a half-open probe.
      circuit.releaseProbe();
    }
    const open = circuit.state(now) === 'closed' ? 0 : 1;
    if (circuitShown.get(dest.id) !== open) {
      am.circuitOpen.set({ destination: dest.id }, open);
      circuitShown.set(dest.id, open);
    }
    deps.circuits?.observe(dest.id, circuit);

    const status = 'status' in result ? result.status : undefined;
    am.attempts.inc({
      destination: dest.id,
      outcome: result.kind,
      status_class: statusClass(status && status > 0 ? status : undefined, dest.type === 'nats'),
    });
    // The job with this attempt added to its history: what a retry or a DLQ record carries (a
    // delivered job needs none of it).
    const withHistory = (): DeliverJob => {
      if (result.kind === 'ok') throw new Error('unreachable: a delivered job keeps no history');
      const record: DeliveryAttempt = {
        n,
        at: started,
        durationMs: now - started,
        outcome: result.kind === 'failed' ? result.reason : result.kind === 'gone' ? 'gone' : result.kind,
        detail: result.detail,
      };
      if (status !== undefined && status > 0) record.status = status;
      const history: DeliverJob = {
        ...job,
        attempt: n,
        firstAttemptAt,
        attempts: [...(job.attempts ?? []), record],
      };
      delete history.notBefore;
      return history;
    };

    switch (result.kind) {
      case 'ok': {
        // Recorded before the ack: a crash in between re-sends (at least once), never loses.
        const sent: SentRecord = { v: 1, at: Date.now(), status: result.status };
        await deps.sent.put(job.deliveryId, utf8.encode(JSON.stringify(sent)));
        metrics.deliveries.inc({ ...labels, outcome: 'ok' });
        metrics.deliveryLatency.observe(labels, Math.max(0, (sent.at - job.eventReceivedAt) / 1_000));
        metrics.deliveryEventLatency.observe(labels, Math.max(0, (sent.at - job.eventTimestamp) / 1_000));
        debug({ status: result.status, attempt: n }, 'delivered');
        return ack();
      }
      case 'gone': {
        metrics.deliveries.inc({ ...labels, outcome: 'failed' });
        const disabled = await disableDestination(deps.bus, dest.id, 'http 410 Gone', now);
        if (disabled) {
          log().error(
            { destination: dest.id },
            'destination answered 410 Gone: disabled; its jobs go to dlq.deliver until `cairn destination put` re-enables it',
          );
        }
        return toDlq(msg, withHistory(), 'gone', result.detail, log());
      }
      case 'failed':
        metrics.deliveries.inc({ ...labels, outcome: 'failed' });
        return toDlq(msg, withHistory(), result.reason, result.detail, log());
      case 'retry': {
        metrics.deliveries.inc({ ...labels, outcome: 'retry' });
        const delay = nextDelayMs(n, result.retryAfterMs, () => clock.random());
        const budget = dest.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
        const history = withHistory();
        if (now + delay - firstAttemptAt > budget) {
          return toDlq(
            msg,
            history,
            'retry_budget_exhausted',
            `${n} attempt(s) over ${now - firstAttemptAt} ms; the next at +${delay} ms would pass the ${budget} ms budget (last: ${result.detail})`,
            log(),
          );
        }
        const next: DeliverJob = { ...history, attempt: n + 1, notBefore: now + delay };
        const via = await parkJob(
          deps.park,
          partitionOfSubject(msg.subject),
          next,
          `${job.deliveryId}:a${n + 1}`,
          now,
        );
        log().warn(
          { detail: result.detail, attempt: n, delayMs: delay, via },
          'delivery failed; retry scheduled',
        );
        return ack();
      }
    }
  };
}

async function attempt(deps: DeliverDeps, dest: Destination, job: DeliverJob): Promise<AttemptResult> {
  if (dest.type === 'webhook') {
    return sendWebhook(dest, job, {
      dispatcher: deps.dispatcher,
      timeoutMs: dest.timeoutMs ?? deps.config.sendTimeoutMs,
      egress: deps.egress,
    });
  }
  try {
    await deps.nats.publish(dest, job);
    return { kind: 'ok', status: 0 };
  } catch (err) {
    return { kind: 'retry', detail: `nats: ${(err as Error).message}` };
  }
}
