// Publishes this process's circuit breakers (circuit.ts, in memory) to KV `cairn_state` keys
// `circuit.<destination>.<holder>` (libs/bus circuit-state.ts) so that the admin API can show
// them: on every state change, and every `everyMs` while a breaker is not closed. Writes are
// off the delivery path (fire and forget, one at a time per key); a failed write is logged and
// the next change or tick writes again. A graceful stop deletes this process's entries.
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';

import {
  BUCKETS,
  circuitKey,
  encodeCircuitReport,
  type Bus,
  type CircuitReport,
} from '../../libs/bus/index.js';
import type { CircuitBreaker, CircuitState } from './circuit.js';

/** How often a breaker that is not closed is written again (readers drop it after twice this). */
export const CIRCUIT_REPORT_MS = 10_000;

interface Tracked {
  breaker: CircuitBreaker;
  /** The state last written (undefined: never written). */
  written: CircuitState | undefined;
  since: number;
  /** The write in flight (or last done) for this key: writes of one key go in order. */
  chain: Promise<void>;
}

export class CircuitReporter {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private kv: Promise<KV> | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly holder: string,
    private readonly log: Logger,
    private readonly now: () => number,
    readonly everyMs = CIRCUIT_REPORT_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** After a breaker's result: writes its state when it changed since the last write. */
  observe(destination: string, breaker: CircuitBreaker): void {
    const now = this.now();
    const state = breaker.state(now);
    let t = this.tracked.get(destination);
    if (!t) {
      // A breaker that never left closed needs no entry: no entry reads as closed.
      if (state === 'closed') return;
      t = { breaker, written: undefined, since: now, chain: Promise.resolve() };
      this.tracked.set(destination, t);
    }
    t.breaker = breaker;
    if (t.written !== state) this.write(destination, t, state, now);
  }

  /** Rewrites every breaker that is not closed (and notices open -> half-open by time). */
  private tick(): void {
    const now = this.now();
    for (const [destination, t] of this.tracked) {
      const state = t.breaker.state(now);
      if (state !== 'closed' || t.written !== 'closed') this.write(destination, t, state, now);
    }
  }

  private write(destination: string, t: Tracked, state: CircuitState, now: number): void {
    if (this.stopped) return;
    if (t.written !== state) t.since = now;
    t.written = state;
    const window = t.breaker.window();
    const report: CircuitReport = {
      v: 1,
      state,
      since: t.since,
      holder: this.holder,
      failureRate: window.length === 0 ? 0 : window.filter((ok) => !ok).length / window.length,
      ...(state === 'open' && { until: t.breaker.reopensAt() }),
      everyMs: this.everyMs,
    };
    const key = circuitKey(destination, this.holder);
    t.chain = t.chain
      .then(async () => {
        if (this.stopped) return;
        await (await this.store()).put(key, encodeCircuitReport(report));
      })
      .catch((err: unknown) => {
        // Written again on the next change or tick.
        if (t.written === state) t.written = undefined;
        this.log.warn({ err, destination }, 'circuit state not written');
      });
  }

  private store(): Promise<KV> {
    return (this.kv ??= this.bus.kv(BUCKETS.state));
  }

  /** Stops writing and deletes this process's entries (best effort). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    await Promise.all(
      [...this.tracked].map(async ([destination, t]) => {
        await t.chain;
        if (t.written === undefined) return;
        await (
          await this.store()
        )
          .delete(circuitKey(destination, this.holder))
          .catch((err: unknown) => this.log.warn({ err, destination }, 'circuit state not deleted'));
      }),
    );
  }
}
