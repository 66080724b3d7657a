// Deletes by sequence that survive a killed server. nats-server 2.9 acknowledges a message delete
// at once but writes it to disk lazily (the block's index, at the sync interval, 2 min by
// default; 2.10 writes a tombstone): a server SIGKILLed before that brings the deleted messages
// back when it starts again (test/integration/timer/remove.test.ts shows it on 2.9.10). A
// RecentDeletes remembers the deletes acknowledged within that window and makes them again after
// every reconnect, until each succeeds (a delete of a message already gone is no error).
import { JetStreamApiError } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** How long an acknowledged delete is remembered: the 2.9 sync interval (2 min) and a margin. */
export const REMEMBER_DELETES_MS = 150_000;
/** Wait between two rounds of a replay whose deletes failed (the server is not ready yet). */
const REPLAY_RETRY_MS = 1_000;

export interface RecentDeletesOptions {
  /** Deletes one sequence; resolves when it is gone (already gone included), else rejects. */
  remove(seq: number): Promise<void>;
  log: Logger;
  rememberMs?: number;
  now?: () => number;
}

export class RecentDeletes {
  readonly #o: RecentDeletesOptions;
  readonly #rememberMs: number;
  /** Acknowledged deletes in the order they were made (so, by time). */
  #recent: { seq: number; at: number }[] = [];
  #replaying: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** When the connection was lost: what the server may have lost is counted back from there. */
  #lostAt: number | undefined;

  constructor(nc: NatsConnection, o: RecentDeletesOptions) {
    this.#o = o;
    this.#rememberMs = o.rememberMs ?? REMEMBER_DELETES_MS;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.#lostAt ??= this.#now();
        else if (s.type === 'reconnect') void this.replay();
      }
      this.#closed = true;
    })();
  }

  /** Deletes remembered now (for tests and metrics). */
  get size(): number {
    this.#prune();
    return this.#recent.length;
  }

  /** A delete the server acknowledged. */
  record(seq: number): void {
    this.#recent.push({ seq, at: this.#now() });
    this.#prune();
  }

  /** Makes every remembered delete again (after a reconnect); resolves once all succeeded. */
  replay(): Promise<void> {
    if (this.#replaying) {
      this.#again = true;
      return this.#replaying;
    }
    this.#replaying = this.#run().finally(() => (this.#replaying = undefined));
    return this.#replaying;
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      this.#prune(this.#lostAt);
      this.#lostAt = undefined;
      let todo = this.#recent.map((r) => r.seq);
      this.#o.log.info({ deletes: todo.length }, 'reconnected: making the recent deletes again');
      while (todo.length > 0 && !this.#closed) {
        const results = await Promise.allSettled(todo.map((seq) => this.#o.remove(seq)));
        // The server refused (an API error, not a timeout): trying again would not help.
        const refused = results.filter(
          (r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof JetStreamApiError,
        );
        if (refused.length > 0)
          this.#o.log.warn(
            {
              err: refused[0]!.reason as unknown,
              code: (refused[0]!.reason as JetStreamApiError).code,
              refused: refused.length,
            },
            'recent deletes refused',
          );
        const failed = todo.filter((_, i) => {
          const r = results[i]!;
          return r.status === 'rejected' && !(r.reason instanceof JetStreamApiError);
        });
        if (failed.length > 0) {
          const err: unknown = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
          this.#o.log.warn({ err, failed: failed.length }, 'recent deletes not made again yet; retrying');
          await new Promise((r) => setTimeout(r, REPLAY_RETRY_MS));
        }
        todo = failed;
      }
    } while (this.#again && !this.#closed);
  }

  /** Forgets the deletes made more than the window before `ref` (now, unless disconnected). */
  #prune(ref = this.#lostAt ?? this.#now()): void {
    const oldest = ref - this.#rememberMs;
    let i = 0;
    while (i < this.#recent.length && this.#recent[i]!.at < oldest) i++;
    if (i > 0) this.#recent = this.#recent.slice(i);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}
