// The clock that rules Cairn's time is the NATS server's: receive times are JetStream message
// timestamps, so every comparison of "now" with an instant derived from them (a timer's due time,
// the idle watermark) reads the server's clock too. Each service estimates it as this host's
// clock plus an offset measured by writing to KV `cairn_state` and reading the stored message's
// timestamp (NTP-style: the write happened between the two local readings around it). `now()`
// is the lowest server time consistent with the measurement (offset minus half the round trip),
// so what waits for an instant never runs early because of the estimate.
import type { Logger } from 'pino';

import type { Bus } from './connection.js';
import { BUCKETS } from './topology.js';

export const CLOCK_PROBE_KEY = 'clock';
/** How often the offset is measured again. */
export const CLOCK_MEASURE_EVERY_MS = 30_000;
const SAMPLES = 3;

export interface ClockMeasurement {
  /** Server clock minus local clock (ms). */
  offsetMs: number;
  /** Half the round trip of the sample: the error bound of offsetMs. */
  uncertaintyMs: number;
}

/** Measures the server's clock against `localNow` (best of a few samples). */
export async function measureServerOffset(bus: Bus, localNow: () => number): Promise<ClockMeasurement> {
  const kv = await bus.kv(BUCKETS.state);
  let best: ClockMeasurement | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const before = localNow();
    const seq = await kv.put(CLOCK_PROBE_KEY, new Uint8Array(0));
    const after = localNow();
    // From the stream leader (a direct get may be answered by a replica that lags).
    const stored = await bus.jsm.streams.getMessage(`KV_${BUCKETS.state}`, { seq });
    if (!stored) continue;
    // The timestamp is read to the ms: one more ms of doubt.
    const m = {
      offsetMs: stored.time.getTime() - (before + after) / 2,
      uncertaintyMs: (after - before) / 2 + 1,
    };
    if (!best || m.uncertaintyMs < best.uncertaintyMs) best = m;
  }
  if (!best) throw new Error('the clock probe was not stored');
  return best;
}

export interface ServerClock {
  /** The server's clock now (epoch ms), never ahead of it by more than the drift since the last
   * measurement. */
  now(): number;
  /** The last measurement (zero before the first). */
  measurement(): ClockMeasurement;
  stop(): void;
}

export interface ServerClockOptions {
  bus: Bus;
  /** This host's clock (default Date.now; tests inject a skewed one). */
  localNow?: () => number;
  /** The offset above which the host's clock is reported as skewed (CAIRN_MAX_CLOCK_SKEW). */
  maxSkewMs: number;
  log: Logger;
  metrics?: { clockOffset: { set(v: number): void }; clockSkewExceeded: { set(v: number): void } };
  measureEveryMs?: number;
}

/** Measures the offset now (a failure is logged, and the local clock used until one succeeds),
 * then periodically; exports it, and logs an error while it exceeds the bound. */
export async function startServerClock(opts: ServerClockOptions): Promise<ServerClock> {
  const localNow = opts.localNow ?? Date.now;
  let current: ClockMeasurement = { offsetMs: 0, uncertaintyMs: 0 };
  let stopped = false;

  const measure = async (): Promise<void> => {
    try {
      current = await measureServerOffset(opts.bus, localNow);
    } catch (err) {
      opts.log.warn({ err }, 'cannot measure the offset from the NATS server clock; keeping the last');
      return;
    }
    const skewed = Math.abs(current.offsetMs) > opts.maxSkewMs;
    opts.metrics?.clockOffset.set(current.offsetMs / 1_000);
    opts.metrics?.clockSkewExceeded.set(skewed ? 1 : 0);
    const fields = { offsetMs: Math.round(current.offsetMs), uncertaintyMs: current.uncertaintyMs };
    if (skewed)
      opts.log.error(
        { ...fields, maxSkewMs: opts.maxSkewMs },
        "this host's clock is off the NATS server's by more than CAIRN_MAX_CLOCK_SKEW; Cairn corrects for it, fix the host's time sync (NTP)",
      );
    else opts.log.debug(fields, 'clock offset from the NATS server');
  };

  await measure();
  let timer: NodeJS.Timeout | undefined;
  const loop = (): void => {
    timer = setTimeout(() => {
      void measure().finally(() => {
        if (!stopped) loop();
      });
    }, opts.measureEveryMs ?? CLOCK_MEASURE_EVERY_MS);
    timer.unref();
  };
  loop();

  return {
    now: () => localNow() + current.offsetMs - current.uncertaintyMs,
    measurement: () => current,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
