// Per-destination isolation inside one sender process: a concurrency cap, a rate limit (token
// bucket, requests/s) and the circuit breaker. A job that cannot start now is parked durably,
// never retried in memory (STYLE.md rule 6), so a slow or failing destination does not occupy
// the runner's slots that other destinations need.
//
// One exception, for the cap alone: a job over it may wait for a slot (`admitOrWait`), when it
// can expect one within its wait (`SLOT_WAIT_MS`, 1 s): the queue ahead of it, divided by the
// cap, times how long a slot is held (a moving average). A burst to a fast destination is then
// sent as slots free up instead of being nak'd and redelivered — which, before, cost about one
// redelivery per delivery at a few hundred events/s and added 50–300 ms to each
// (docs/performance.md). A slow destination gets almost no waiters (a job that would wait
// longer is parked at once), so it holds little more than its cap of the runner's slots, and
// no job waits longer than that.
import type { Destination } from '../../libs/bus/index.js';
import { CircuitBreaker } from './circuit.js';

export const DEFAULT_DESTINATION_CONCURRENCY = 16;
/** How long a job over its destination's concurrency cap may wait for a slot. */
export const SLOT_WAIT_MS = 1_000;
/** Weight of the newest attempt in the moving average of how long a slot is held. */
const HOLD_EWMA = 0.2;

export type Admission =
  | { ok: true; release(): void }
  | { ok: false; reason: 'circuit_open' | 'concurrency' | 'rate_limit'; retryAt: number };

interface DestinationState {
  inFlight: number;
  /** Jobs waiting for a slot, first come first served: each is woken by one release. */
  waiters: Array<() => void>;
  /** How long an admitted attempt holds its slot (ms, moving average; undefined before one). */
  holdMs: number | undefined;
  tokens: number;
  refilledAt: number;
  circuit: CircuitBreaker;
}

export class DestinationGates {
  private readonly byId = new Map<string, DestinationState>();

  private stateOf(dest: Destination, now: number): DestinationState {
    let s = this.byId.get(dest.id);
    if (!s) {
      s = {
        inFlight: 0,
        waiters: [],
        holdMs: undefined,
        tokens: Math.max(1, dest.rateLimit ?? 1),
        refilledAt: now,
        circuit: new CircuitBreaker(),
      };
      this.byId.set(dest.id, s);
    }
    s.circuit.configure(dest.circuit);
    return s;
  }

  circuit(dest: Destination, now: number): CircuitBreaker {
    return this.stateOf(dest, now).circuit;
  }

  inFlight(id: string): number {
    return this.byId.get(id)?.inFlight ?? 0;
  }

  /**
   * Admits one attempt now, or says when to look again. Jobs held by an open circuit are spread
   * over one cooldown after it may probe (and, while a probe is out, over the next cooldown),
   * so that they come back as a trickle rather than a burst every cooldown.
   */
  admit(dest: Destination, now: number, random: () => number = Math.random): Admission {
    const s = this.stateOf(dest, now);
    const cap = dest.concurrency ?? DEFAULT_DESTINATION_CONCURRENCY;
    if (s.inFlight >= cap) return { ok: false, reason: 'concurrency', retryAt: now + 50 };
    if (dest.rateLimit !== undefined) {
      const burst = Math.max(1, dest.rateLimit);
      s.tokens = Math.min(burst, s.tokens + ((now - s.refilledAt) / 1_000) * dest.rateLimit);
      s.refilledAt = now;
      if (s.tokens < 1) {
        return {
          ok: false,
          reason: 'rate_limit',
          retryAt: now + Math.ceil(((1 - s.tokens) / dest.rateLimit) * 1_000),
        };
      }
    }
    if (!s.circuit.allow(now)) {
      const from = Math.max(s.circuit.reopensAt(), now);
      return {
        ok: false,
        reason: 'circuit_open',
        retryAt: from + Math.floor(random() * s.circuit.cooldownMs),
      };
    }
    if (dest.rateLimit !== undefined) s.tokens -= 1;
    s.inFlight++;
    let released = false;
    const since = performance.now();
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        const held = performance.now() - since;
        s.holdMs = s.holdMs === undefined ? held : s.holdMs + HOLD_EWMA * (held - s.holdMs);
        s.inFlight--;
        s.waiters.shift()?.();
      },
    };
  }

  /**
   * `admit`, but over the concurrency cap it waits for a slot, at most `maxWaitMs` (real time)
   * and only when it can expect one by then (see slotFreed); then the refusal stands. The
   * rate limit and the circuit are checked again each time a slot frees up.
   */
  async admitOrWait(
    dest: Destination,
    now: () => number,
    random: () => number,
    maxWaitMs = SLOT_WAIT_MS,
  ): Promise<Admission> {
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      const admission = this.admit(dest, now(), random);
      if (admission.ok || admission.reason !== 'concurrency') return admission;
      const left = deadline - performance.now();
      if (left <= 0 || !(await this.slotFreed(dest, left))) return admission;
    }
  }

  /**
   * True when a release woke this waiter within `ms`; false at once when the queue ahead would
   * take longer than `ms` to clear at the rate slots have been freed. (No bound on the queue
   * itself: each waiter is a runner slot, so the runner's concurrency bounds it.)
   */
  private slotFreed(dest: Destination, ms: number): Promise<boolean> {
    const s = this.byId.get(dest.id);
    if (!s) return Promise.resolve(false);
    const cap = dest.concurrency ?? DEFAULT_DESTINATION_CONCURRENCY;
    if (((s.waiters.length + 1) / cap) * (s.holdMs ?? 0) > ms) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = s.waiters.indexOf(wake);
        if (i >= 0) s.waiters.splice(i, 1);
        resolve(false);
      }, ms);
      s.waiters.push(wake);
    });
  }
}
