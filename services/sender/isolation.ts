// Per-destination isolation inside one sender process: a concurrency cap, a rate limit (token
// bucket, requests/s) and the circuit breaker. A job that cannot start now is parked durably,
// never held in memory (STYLE.md rule 6), so a slow or failing destination does not occupy the
// runner's slots that other destinations need.
import type { Destination } from '../../libs/bus/index.js';
import { CircuitBreaker } from './circuit.js';

export const DEFAULT_DESTINATION_CONCURRENCY = 16;

export type Admission =
  | { ok: true; release(): void }
  | { ok: false; reason: 'circuit_open' | 'concurrency' | 'rate_limit'; retryAt: number };

interface DestinationState {
  inFlight: number;
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
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        s.inFlight--;
      },
    };
  }
}
