// A per-destination circuit breaker (in memory, per sender process). Closed: every attempt goes
// through and its result is kept in a window of the last `WINDOW` results. When at least
// `minRequests` results are in and the failure rate reaches `failureRate`, it opens: no attempt
// for `cooldownMs`. Then it is half-open: one probe at a time; a success closes it, a failure
// opens it again. Jobs that find it open are parked (durably) until it may probe, with no
// attempt counted.
import type { CircuitSettings } from '../../libs/bus/index.js';

export const CIRCUIT_DEFAULTS = { failureRate: 0.5, minRequests: 20, cooldownMs: 30_000 } as const;
/** Results kept per destination. */
export const WINDOW = 50;

export type CircuitState = 'closed' | 'open' | 'half_open';

export class CircuitBreaker {
  private results: boolean[] = [];
  private openedAt: number | undefined;
  private probing = false;
  private settings: Required<CircuitSettings> = { ...CIRCUIT_DEFAULTS };

  configure(s: CircuitSettings | undefined): void {
    this.settings = { ...CIRCUIT_DEFAULTS, ...s };
  }

  state(now: number): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return now - this.openedAt >= this.settings.cooldownMs ? 'half_open' : 'open';
  }

  /** May an attempt start now? In half-open, only one probe at a time. */
  allow(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  get cooldownMs(): number {
    return this.settings.cooldownMs;
  }

  /** When a parked job should look again. */
  reopensAt(): number {
    return (this.openedAt ?? 0) + this.settings.cooldownMs;
  }

  /** Records an attempt's result; true when this result opened the circuit. */
  record(ok: boolean, now: number): boolean {
    if (this.openedAt !== undefined) {
      // A probe's answer (or a straggler from before it opened).
      this.probing = false;
      if (ok) {
        this.openedAt = undefined;
        this.results = [];
        return false;
      }
      this.openedAt = now;
      return false;
    }
    this.results.push(ok);
    if (this.results.length > WINDOW) this.results.shift();
    const failures = this.results.filter((r) => !r).length;
    if (
      this.results.length >= this.settings.minRequests &&
      failures / this.results.length >= this.settings.failureRate
    ) {
      this.openedAt = now;
      return true;
    }
    return false;
  }

  /** The recent results (true = ok), oldest first. */
  window(): readonly boolean[] {
    return this.results;
  }

  /** A probe that never reported (the job was parked instead): let another probe go. */
  releaseProbe(): void {
    this.probing = false;
  }
}
