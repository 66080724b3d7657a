// The one shared consume loop (STYLE.md rule 4): durable pull consumers, per-key ordering,
// bounded concurrency, ack/nak/term, the delivery budget, the DLQ, metrics and the drain.
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { errors, nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';

import type { Bus } from './connection.js';
import { DESTINATION_INVALID } from './destination-registry.js';
import { DLQ_RECORD_MAX_BYTES, dlqRecordOf, publishDlq } from './dlq.js';
import { BusCodes } from './errors.js';
import { KeyScheduler } from './key-scheduler.js';
import { PULL_OPTIONS } from './pull.js';
import { RecoveryGate } from './recovery-gate.js';
import type { Outcome } from './outcome.js';

export interface HandlerContext {
  /**
   * The attempt this run is (1 for the first). The server's delivery count also counts
   * redeliveries that were no attempt: one that came while this runner still held the message
   * (its touches lost while the connection was down), one sent to a pull that died with its
   * server. For a message this runner already ran, the attempt is its last run's plus one; for a
   * message it never ran (the first delivery, or one another process ran before) it is the
   * server's delivery count.
   */
  deliveryCount: number;
  subject: string;
  /** A child logger bound to the message (built on first use). */
  log: Logger;
  /** Logs at debug through `log`, without building it when debug is off (the hot path). */
  debug(obj: object, msg: string): void;
}

export interface RunnerMetrics {
  runnerMessages: { inc(labels: { stage: string; outcome: string }): void };
  runnerHandleSeconds: { observe(labels: { stage: string }, value: number): void };
  dlq: { inc(labels: { stage: string; reason: string }): void };
}

export interface RunnerOptions {
  bus: Bus;
  stream: string;
  stage: string;
  /** One durable pull consumer per subject (e.g. per owned partition). */
  subjects: string[];
  /** Durable name of a subject's consumer; default `${stage}-p${n}` from its first numeric token. */
  durableName?: (subject: string) => string;
  /**
   * The serialization key(s) of a message: messages sharing a key run one at a time in arrival
   * order. A message with several keys waits for (and holds back) each. May be asynchronous (a
   * lookup): messages still enter the scheduler in arrival order. Not asked again for the
   * redelivery of a retried message, which keeps the keys it had.
   */
  keyOf(msg: JsMsg): MessageKeys | Promise<MessageKeys>;
  /** The runner is done with a message for good: acked, moved to the DLQ, or gone from the
   * stream while its key waited for its redelivery. Not called for a retry or a nak on stop. */
  onSettled?(seq: number): void;
  handler(msg: JsMsg, ctx: HandlerContext): Promise<Outcome>;
  /** Attempts (HandlerContext.deliveryCount) before a message goes to the DLQ with reason
   * `max_deliver`. */
  maxDeliver: number;
  ackWaitMs: number;
  concurrency: number;
  dlqSubject: string;
  logger: Logger;
  metrics?: RunnerMetrics;
  /** Messages one consumer may have unacknowledged (default 1000). */
  maxAckPending?: number;
  /** Messages one pull asks for (default max(16, 2 × concurrency)). */
  maxMessages?: number;
}

export type MessageKeys = string | readonly string[];

export interface Runner {
  ready: Promise<void>;
  isReady(): boolean;
  /** True while a consumer holds new messages back until an earlier session's come back (and
   * before the consumers are bound): messages are in flight that this runner has not seen. */
  isRecovering(): boolean;
  /** Stop pulling, let in-flight work finish within `graceMs`, nak what never started. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Delay of the naks sent on stop. The server keeps this connection's pull requests until they
 * expire, and an immediate redelivery would go to them and be lost until ack wait; one second
 * lets the service close its connection first (which drops them).
 */
export const STOP_NAK_DELAY_MS = 1_000;

/** Backoff for a handler that threw: 0.5 s doubling, capped at 30 s. */
export function throwBackoffMs(deliveryCount: number): number {
  return Math.min(500 * 2 ** Math.max(0, deliveryCount - 1), 30_000);
}

export function defaultDurableName(stage: string, subject: string): string {
  const n = subject.split('.').find((t) => /^\d+$/.test(t));
  return n === undefined ? `${stage}-${subject.replace(/[.*>\s]/g, '_')}` : `${stage}-p${n}`;
}

export function startRunner(opts: RunnerOptions): Runner {
  const { bus, stage, stream } = opts;
  const log = opts.logger.child({ component: 'runner', stage });
  const tracked = new Map<number, { msg: JsMsg; touched: number }>();
  /** The attempt of each message's last run, while it waits for its redelivery (HandlerContext). */
  const attempts = new Map<number, number>();
  const settled = (seq: number): void => {
    attempts.delete(seq);
    opts.onSettled?.(seq);
  };
  const subscriptions: ConsumerMessages[] = [];
  const gates: RecoveryGate<JsMsg>[] = [];
  let ready = false;
  let stopping = false;

  const count = (outcome: string): void => opts.metrics?.runnerMessages.inc({ stage, outcome });

  /** The largest record the server takes: DLQ_RECORD_MAX_BYTES, or less under a smaller max payload. */
  const maxRecordBytes = (): number =>
    Math.min(DLQ_RECORD_MAX_BYTES, (bus.nc.info?.max_payload ?? Infinity) - 1_024);

  /**
   * Writes the DLQ record, then acks. When the write fails the message is naked with backoff and
   * (with `hold`: it was in the key scheduler) its keys are blocked until the redelivery, so that
   * a later message of the same key never overtakes it. Past the budget the handler does not run again: a redelivery only tries
   * the record again (reason `max_deliver`).
   */
  const toDlq = async (msg: JsMsg, reason: string, detail?: string, hold = false): Promise<void> => {
    try {
      const record = dlqRecordOf(msg, stage, reason, detail, new Date(), maxRecordBytes());
      await publishDlq(bus.js, opts.dlqSubject, record);
    } catch (err) {
      // The record must exist before the message is dropped: try again later.
      log.error({ err, seq: msg.seq, subject: msg.subject }, 'dlq publish failed');
      const delayMs = throwBackoffMs(msg.info.deliveryCount);
      if (hold && !stopping) {
        scheduler.block(msg.seq);
        awaitRedelivery(msg.seq, delayMs);
      }
      msg.nak(delayMs);
      count('dlq_failed');
      return;
    }
    // Ack, not term: on 2.9 a term'd message stays in a work-queue stream forever, and the DLQ
    // record is now the durable trace of it.
    msg.ack();
    settled(msg.seq);
    opts.metrics?.dlq.inc({ stage, reason });
    log.warn(
      { seq: msg.seq, subject: msg.subject, reason, detail, deliveryCount: msg.info.deliveryCount },
      'moved to dlq',
    );
  };

  const handleOne = async (msg: JsMsg): Promise<void> => {
    const last = attempts.get(msg.seq);
    const deliveryCount = last === undefined ? msg.info.deliveryCount : last + 1;
    attempts.set(msg.seq, deliveryCount);
    if (deliveryCount > opts.maxDeliver) {
      count('max_deliver');
      return toDlq(msg, 'max_deliver', `delivered ${deliveryCount} times`, true);
    }
    const started = performance.now();
    let outcome: Outcome;
    try {
      // The child logger is built only when the handler logs: most messages never do.
      let child: Logger | undefined;
      outcome = await opts.handler(msg, {
        deliveryCount,
        subject: msg.subject,
        get log() {
          return (child ??= log.child({ seq: msg.seq }));
        },
        debug(obj, text) {
          if (log.isLevelEnabled('debug')) (child ??= log.child({ seq: msg.seq })).debug(obj, text);
        },
      });
    } catch (err) {
      const invalid = invalidValueReason(err);
      if (invalid !== undefined) {
        // A corrupt or foreign stored value (named in the message) does not heal by retrying.
        outcome = { kind: 'terminal', reason: invalid, detail: (err as Error).message };
      } else {
        log.warn({ err, seq: msg.seq, subject: msg.subject, deliveryCount }, 'handler threw; retrying');
        outcome = { kind: 'retry', delayMs: throwBackoffMs(deliveryCount) };
      }
      count('error');
    }
    opts.metrics?.runnerHandleSeconds.observe({ stage }, (performance.now() - started) / 1_000);
    if (outcome.kind === 'ack') {
      msg.ack();
      count('ack');
      settled(msg.seq);
    } else if (outcome.kind === 'retry' && outcome.notRun) {
      // Handed back unrun: not an attempt, so it does not eat into the delivery budget. Recorded as
      // the attempts before this delivery, so that the server's count, which this delivery raised,
      // does not stand in for it at the redelivery.
      attempts.set(msg.seq, deliveryCount - 1);
      msg.nak(outcome.delayMs);
      count('handed_back');
    } else if (outcome.kind === 'retry') {
      if (deliveryCount >= opts.maxDeliver) {
        count('max_deliver');
        return toDlq(msg, 'max_deliver', `gave up after ${deliveryCount} deliveries`, true);
      }
      // Later messages of its keys wait for the redelivery: per-key order (DESIGN.md §5.2).
      if (!stopping) {
        scheduler.block(msg.seq);
        awaitRedelivery(msg.seq, outcome.delayMs);
      }
      msg.nak(outcome.delayMs);
      count('retry');
    } else {
      count('terminal');
      await toDlq(msg, outcome.reason, outcome.detail, true);
    }
  };

  const scheduler = new KeyScheduler<JsMsg>(opts.concurrency, async (msg) => {
    try {
      await handleOne(msg);
    } finally {
      tracked.delete(msg.seq);
    }
  });

  // A blocked key waits for a redelivery that cannot come when the message left the stream
  // meanwhile (purged, deleted, aged out): once it is overdue, look, and let the key go if so.
  const redeliveryChecks = new Map<number, NodeJS.Timeout>();
  const awaitRedelivery = (seq: number, delayMs: number): void => {
    const check = async (): Promise<void> => {
      redeliveryChecks.delete(seq);
      if (stopping || !scheduler.blockedKeys(seq)) return;
      let gone = false;
      try {
        gone = (await bus.jsm.streams.getMessage(stream, { seq })) === null;
      } catch (err) {
        log.warn({ err, seq }, 'cannot tell whether an overdue redelivery is still stored');
      }
      if (stopping || !scheduler.blockedKeys(seq)) return;
      if (gone) {
        scheduler.release(seq);
        count('gone');
        log.warn({ seq }, 'message left the stream before its redelivery; its keys go on');
        settled(seq);
        return;
      }
      schedule(opts.ackWaitMs);
    };
    const schedule = (ms: number): void => {
      const timer = setTimeout(() => void check(), ms);
      timer.unref();
      redeliveryChecks.set(seq, timer);
    };
    clearTimeout(redeliveryChecks.get(seq));
    schedule(delayMs + opts.ackWaitMs);
  };

  // Keys may come from a lookup: messages wait here, in arrival order, until theirs are known.
  const keying: { msg: JsMsg; done: boolean; keys?: MessageKeys; error?: unknown }[] = [];
  const keyingSeqs = new Set<number>();
  const enter = (msg: JsMsg, keys: MessageKeys): void => {
    tracked.set(msg.seq, { msg, touched: Date.now() });
    scheduler.push(keys, msg.seq, msg);
  };
  const flushKeyed = (): void => {
    while (keying.length > 0 && keying[0]!.done) {
      const k = keying.shift()!;
      keyingSeqs.delete(k.msg.seq);
      tracked.delete(k.msg.seq);
      if (stopping) k.msg.nak(STOP_NAK_DELAY_MS);
      else if (k.keys !== undefined) enter(k.msg, k.keys);
      else void toDlq(k.msg, 'bad_key', String((k.error as Error | undefined)?.message ?? k.error));
    }
  };

  const onMessage = (msg: JsMsg): void => {
    if (stopping) {
      msg.nak(STOP_NAK_DELAY_MS);
      return;
    }
    // A redelivery of a message we still hold (ack wait passed): the held copy answers for it.
    if (scheduler.has(msg.seq) || keyingSeqs.has(msg.seq)) return;
    // The awaited redelivery of a retried message keeps its keys and goes first.
    const awaited = scheduler.blockedKeys(msg.seq);
    if (awaited) {
      clearTimeout(redeliveryChecks.get(msg.seq));
      redeliveryChecks.delete(msg.seq);
      enter(msg, awaited);
      return;
    }
    let keys: MessageKeys | Promise<MessageKeys>;
    try {
      keys = opts.keyOf(msg);
    } catch (err) {
      void toDlq(msg, 'bad_key', (err as Error).message);
      return;
    }
    if (!(keys instanceof Promise) && keying.length === 0) {
      enter(msg, keys);
      return;
    }
    const entry: (typeof keying)[number] = { msg, done: false };
    keying.push(entry);
    keyingSeqs.add(msg.seq);
    tracked.set(msg.seq, { msg, touched: Date.now() });
    void Promise.resolve(keys).then(
      (k) => {
        entry.keys = k;
        entry.done = true;
        flushKeyed();
      },
      (err: unknown) => {
        entry.error = err;
        entry.done = true;
        flushKeyed();
      },
    );
  };

  // Messages waiting behind their key (or in a slow handler) must not hit ack wait.
  const touchEvery = Math.max(200, Math.floor(opts.ackWaitMs / 3));
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const t of tracked.values()) {
      if (now - t.touched >= touchEvery) {
        t.msg.working();
        t.touched = now;
      }
    }
    // Held behind a recovery gate: not tracked yet, kept alive all the same.
    for (const gate of gates) for (const msg of gate.waiting) msg.working();
  }, touchEvery);
  heartbeat.unref();

  // A server that is restarting answers API calls with timeouts for a while: keep trying.
  const persist = async <R>(what: string, fn: () => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (stopping || !isTransient(err)) throw err;
        log.warn({ err, attempt, what }, 'bus not ready; retrying');
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5_000)));
      }
    }
  };

  const ensureConsumer = async (durable: string, cfg: Partial<ConsumerConfig>): Promise<void> => {
    try {
      await bus.jsm.consumers.add(stream, cfg);
    } catch (addError) {
      if (isTransient(addError)) throw addError;
      // It may exist with another config: update what a durable allows to change.
      await bus.jsm.consumers
        .update(stream, durable, {
          ack_wait: cfg.ack_wait,
          max_deliver: cfg.max_deliver,
          max_ack_pending: cfg.max_ack_pending,
        })
        .catch(() => {
          throw addError;
        });
    }
  };

  const start = async (): Promise<void> => {
    for (const subject of opts.subjects) {
      const durable = opts.durableName?.(subject) ?? defaultDurableName(stage, subject);
      const cfg = {
        durable_name: durable,
        filter_subject: subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(opts.ackWaitMs),
        // The runner enforces the budget itself, so that the last delivery reaches the DLQ.
        max_deliver: -1,
        max_ack_pending: opts.maxAckPending ?? 1_000,
      };
      await persist(`consumer ${durable}`, () => ensureConsumer(durable, cfg));
      const consumer = await persist(`consumer ${durable}`, () => bus.js.consumers.get(stream, durable));
      const info = await persist(`consumer ${durable}`, () => consumer.info());
      const gate = new RecoveryGate<JsMsg>(
        info.num_ack_pending,
        info.delivered.stream_seq,
        2 * opts.ackWaitMs + STOP_NAK_DELAY_MS,
        onMessage,
        (missing, held) =>
          log.warn({ durable, missing, held }, 'earlier messages did not come back in time; going on'),
      );
      if (!gate.isOpen)
        log.info(
          { durable, pending: info.num_ack_pending, deliveredSeq: info.delivered.stream_seq },
          'an earlier session left messages in flight: newer ones wait for their redelivery',
        );
      gates.push(gate);
      const messages = await consumer.consume({
        max_messages: opts.maxMessages ?? Math.max(16, opts.concurrency * 2),
        // A pull whose server died is noticed in seconds (pull.ts) and made again at once:
        // `bind` skips the client's consumer-info check first, which waits for an API timeout
        // while the consumer has no leader (the consumer exists: ensured above).
        ...PULL_OPTIONS,
        bind: true,
        callback: (msg) => gate.offer(msg),
      });
      subscriptions.push(messages);
      log.info({ stream, durable, subject }, 'consuming');
    }
    ready = !stopping;
  };

  const readyPromise = start();
  readyPromise.catch((err: unknown) => log.error({ err }, 'runner failed to start'));

  return {
    ready: readyPromise,
    isReady: () => ready,
    isRecovering: () => !ready || gates.some((g) => !g.isOpen),
    async stop(graceMs) {
      stopping = true;
      ready = false;
      await Promise.all(subscriptions.map((s) => s.close().catch(() => undefined)));
      for (const gate of gates) for (const msg of gate.close()) msg.nak(STOP_NAK_DELAY_MS);
      for (const timer of redeliveryChecks.values()) clearTimeout(timer);
      redeliveryChecks.clear();
      attempts.clear();
      // Keys still being looked up: naked when their lookup ends (flushKeyed).
      // Nak what never started, in arrival order, so that another replica can take it.
      for (const msg of scheduler.drain()) {
        tracked.delete(msg.seq);
        msg.nak(STOP_NAK_DELAY_MS);
      }
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)),
      );
      const result = await Promise.race([scheduler.idle().then(() => 'idle' as const), graceOver]);
      clearTimeout(timer);
      clearInterval(heartbeat);
      if (result === 'timeout')
        log.warn({ inFlight: scheduler.running }, 'grace period over with work in flight');
      log.info({ stream }, 'runner stopped');
    },
  };
}

/** The DLQ reason of an error that says a stored value is unreadable, else undefined. */
function invalidValueReason(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === BusCodes.VALUE_INVALID) return 'value_invalid';
  if (code === DESTINATION_INVALID) return 'destination_invalid';
  return undefined;
}

function isTransient(err: unknown): boolean {
  return (
    err instanceof errors.TimeoutError ||
    err instanceof errors.NoRespondersError ||
    err instanceof errors.RequestError
  );
}

/**
 * startRunner, then wait until every consumer is bound. On failure the runner is stopped,
 * `cleanup` releases what the service opened before it, and the error is rethrown.
 */
export async function startRunnerReady(
  opts: RunnerOptions,
  cleanup?: () => Promise<unknown>,
): Promise<Runner> {
  const runner = startRunner(opts);
  try {
    await runner.ready;
  } catch (err) {
    await runner.stop(0);
    await cleanup?.();
    throw err;
  }
  return runner;
}
