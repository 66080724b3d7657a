// The per-partition follower: an ordered consumer of `timers.<p>.*` from a stream sequence on,
// with short pulls and heartbeats (libs/bus pull.ts), made again from the next sequence as soon
// as it has heard nothing (no message, no heartbeat) for SILENCE_MS. The client's own recovery
// asks the silent consumer for its info and waits until that answers (after a reconnect it does
// not even watch heartbeats until then); when the node holding the (R1, in memory) ordered
// consumer is dead, that took 25–60 s on a 3-node 2.9.10 cluster
// (test/integration/timer/cluster.test.ts). A new ordered consumer is placed on a live node.
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';

import { PULL_IDLE_HEARTBEAT_MS, PULL_OPTIONS, STREAMS, type Bus } from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

export interface OrderedFollower {
  stop(): Promise<void>;
}

export interface FollowOptions {
  bus: Bus;
  filter: string;
  /** The first stream sequence to read. */
  fromSeq: number;
  onMessage(msg: JsMsg): void;
  log: Logger;
}

const REOPEN_BACKOFF_MS = [100, 250, 500, 1_000, 2_000];
/** Silence (no message, no heartbeat) after which the follower is made again: 4 heartbeats. */
export const SILENCE_MS = 4 * PULL_IDLE_HEARTBEAT_MS;
/** Status notices that come from the server (the others are the client's own). */
const SIGNS_OF_LIFE = new Set(['heartbeat', 'debug', 'discard', 'exceeded_limits']);

export async function followOrdered(o: FollowOptions): Promise<OrderedFollower> {
  let next = o.fromSeq;
  let stopped = false;
  let current: ConsumerMessages | undefined;
  let reopening: Promise<void> | undefined;
  let heard = Date.now();

  const open = async (): Promise<void> => {
    const consumer = await o.bus.js.consumers.get(STREAMS.TIMERS, {
      filter_subjects: o.filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: next,
    });
    const messages = await consumer.consume({
      ...PULL_OPTIONS,
      callback: (msg) => {
        heard = Date.now();
        next = msg.seq + 1;
        o.onMessage(msg);
      },
    });
    current = messages;
    heard = Date.now();
    void (async () => {
      for await (const s of messages.status()) if (SIGNS_OF_LIFE.has(s.type)) heard = Date.now();
    })();
  };

  const watchdog = setInterval(() => {
    const silentMs = Date.now() - heard;
    if (silentMs > SILENCE_MS) reopen(silentMs);
  }, PULL_IDLE_HEARTBEAT_MS);
  watchdog.unref();

  const reopen = (silentMs: number): void => {
    if (stopped || reopening) return;
    reopening = (async () => {
      const old = current;
      current = undefined;
      await old?.close().catch(() => undefined);
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await open();
          o.log.warn({ filter: o.filter, next, silentMs }, 'timer follower went silent; made again');
          return;
        } catch (err) {
          o.log.warn({ err, filter: o.filter, attempt }, 'timer follower cannot be made again yet; retrying');
          const wait = REOPEN_BACKOFF_MS[Math.min(attempt, REOPEN_BACKOFF_MS.length - 1)]!;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    })().finally(() => {
      reopening = undefined;
      heard = Date.now();
    });
  };

  try {
    await open();
  } catch (err) {
    clearInterval(watchdog);
    throw err;
  }
  return {
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      await reopening;
      await current?.close().catch(() => undefined);
    },
  };
}
