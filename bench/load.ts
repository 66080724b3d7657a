// The load generator: JetStream publishes with a window of acks in flight, either as fast as
// possible or paced at a rate (events stamped with `sent_at` just before they leave).
import type { JetStreamClient } from '@nats-io/jetstream';

import { sleep } from './env.js';

export interface Outgoing {
  subject: string;
  data: Uint8Array | string;
  msgId?: string;
}

const WINDOW = 1_024;

/** Publishes `count` messages made by `make(i)` with up to `window` acks in flight. */
export async function publishAll(
  js: JetStreamClient,
  count: number,
  make: (i: number) => Outgoing,
  window = WINDOW,
): Promise<number> {
  const started = Date.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const m = make(i);
    const p = js.publish(m.subject, m.data, m.msgId ? { msgID: m.msgId } : undefined);
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= window) await Promise.race(pending);
  }
  await Promise.all(pending);
  return Date.now() - started;
}

export interface PacedResult {
  published: number;
  elapsedMs: number;
  /** Events per second actually offered. */
  achievedRate: number;
}

/**
 * Offers `rate` messages per second for `durationMs`: every few milliseconds it publishes what
 * the schedule says is due, with up to `window` acks in flight. Resolves when every ack arrived.
 */
export async function publishPaced(
  js: JetStreamClient,
  rate: number,
  durationMs: number,
  make: (i: number) => Outgoing,
  window = WINDOW,
): Promise<PacedResult> {
  const total = Math.round((rate * durationMs) / 1_000);
  const started = performance.now();
  const pending = new Set<Promise<unknown>>();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1_000) + 1);
    while (i < due && pending.size < window) {
      const m = make(i++);
      const p = js.publish(m.subject, m.data, m.msgId ? { msgID: m.msgId } : undefined);
      pending.add(p);
      void p.finally(() => pending.delete(p)).catch(() => undefined);
    }
    if (pending.size >= window) await Promise.race(pending);
    else await sleep(2);
  }
  const offeredMs = performance.now() - started;
  await Promise.all(pending);
  return { published: total, elapsedMs: offeredMs, achievedRate: (total * 1_000) / Math.max(1, offeredMs) };
}
