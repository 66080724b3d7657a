// Partition leases (KV `cairn_leases`, key `<stage>.<p>`): the fence that keeps two live processes
// from consuming one partition of a stage — a rolling update that starts the new replica before
// the old one is gone, a forced pod delete, a process stopped (SIGSTOP, a long GC, a frozen VM)
// that wakes up later. The static ordinal says which partitions a process *should* run; the lease
// says which it *may*.
//
// A lease is a KV value written by CAS: `create` when the key is free, `update` on the revision
// read when it was released or ran out. The holder renews it by CAS every `ttl / 4` and counts it
// valid until `send time of the last successful renewal + ttl - margin` on its own monotonic
// clock: the renewal was stored after it was sent, so every other process saw that revision only
// later. Another process takes a lease held by someone else only after it has seen the same
// revision unchanged for `ttl + margin` on its own monotonic clock (from the arrival of the read
// that first showed it), and only by a CAS on that revision: so the old holder stopped at least
// `2 × margin` before (no wall clocks compared; the margin absorbs rate differences and timer
// delays). A graceful stop writes the lease released (CAS), and a waiting process watching the
// bucket takes it at once.
import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

import { KvWatchInclude } from '@nats-io/kv';
import type { Logger } from 'pino';
import { z } from 'zod';

import type { Bus } from './connection.js';
import { decodeValue, isCasConflict, type ValueCodec } from './kv-cas.js';
import type { KvStore } from './lean.js';
import { BUCKETS } from './topology.js';

export const LeaseSchema = z.object({
  v: z.literal(1),
  /** The process holding (or that last held) the lease. */
  holder: z.string().min(1),
  /** Its lifetime in ms, as the holder counts it: a taker waits at least this long. */
  ttlMs: z.number().int().positive(),
  /** Written by a graceful stop: anyone may take it at once. */
  released: z.boolean().optional(),
});
export type Lease = z.output<typeof LeaseSchema>;

export const leaseCodec: ValueCodec<Lease> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => LeaseSchema.parse(JSON.parse(new TextDecoder().decode(bytes))),
};

export const leaseKey = (stage: string, partition: number): string => `${stage}.${partition}`;

/** The safety margin of a lease: a fifth of its lifetime. */
export const leaseMarginMs = (ttlMs: number): number => Math.floor(ttlMs / 5);
/** How often a holder renews (and a waiting process looks again): a quarter of the lifetime. */
export const leaseRenewMs = (ttlMs: number): number => Math.max(50, Math.floor(ttlMs / 4));

/** Why a process stopped consuming a partition. */
export type LeaseEnd = 'expired' | 'taken' | 'released';

export interface LeaseMetrics {
  partitionsOwned: { inc(labels: { stage: string }): void; dec(labels: { stage: string }): void };
  leaseTakeovers: { inc(labels: { stage: string }): void };
  leaseLosses: { inc(labels: { stage: string; reason: string }): void };
}

export interface PartitionLeasesOptions {
  bus: Bus;
  stage: string;
  /** The partitions this process should run (the static ordinal's share). */
  partitions: number[];
  ttlMs: number;
  /** Start consuming p: its lease is held. A failure releases the lease (tried again later). */
  acquired(partition: number): Promise<void>;
  /** Stop consuming p at once (`expired`, `taken`), or drain it (`released`, on stop). */
  lost(partition: number, why: LeaseEnd): Promise<void>;
  log: Logger;
  metrics?: LeaseMetrics;
  /** A monotonic clock in ms (default performance.now; tests may inject one). */
  now?: () => number;
  /** This process's name in the lease values (default host/pid/random). */
  holder?: string;
}

interface Slot {
  partition: number;
  key: string;
  held: boolean;
  /** Our revision of the key while held. */
  revision: number;
  /** Monotonic instant up to which the lease is ours. */
  validUntil: number;
  expiry: NodeJS.Timeout | undefined;
  /** Another holder's revision and when it was first seen (monotonic), while not held. */
  seen: { revision: number; at: number } | undefined;
  /** A KV request of this slot is in flight. */
  busy: boolean;
  /** The watch saw the lease freed while a request was in flight: look again after it. */
  recheck: boolean;
  /** What the last `acquired` of this partition threw. */
  failure: unknown;
  /** acquired/lost callbacks of this partition, one after the other. */
  chain: Promise<void>;
}

export function newLeaseHolder(stage: string): string {
  return `${hostname()}/${process.pid}/${stage}/${randomBytes(4).toString('hex')}`;
}

export class PartitionLeases {
  readonly holder: string;
  readonly #o: PartitionLeasesOptions;
  readonly #slots = new Map<number, Slot>();
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #log: Logger;
  #store: KvStore | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #watch: { stop(): void; done: Promise<void> } | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(opts: PartitionLeasesOptions) {
    this.#o = opts;
    this.holder = opts.holder ?? newLeaseHolder(opts.stage);
    this.#now = opts.now ?? (() => performance.now());
    this.#marginMs = leaseMarginMs(opts.ttlMs);
    this.#log = opts.log.child({ component: 'leases', stage: opts.stage });
    for (const partition of opts.partitions) {
      this.#slots.set(partition, {
        partition,
        key: leaseKey(opts.stage, partition),
        held: false,
        revision: 0,
        validUntil: -Infinity,
        expiry: undefined,
        seen: undefined,
        busy: false,
        recheck: false,
        failure: undefined,
        chain: Promise.resolve(),
      });
    }
  }

  /** Whether this process may consume `partition` now (checked on the monotonic clock). */
  holds(partition: number): boolean {
    const slot = this.#slots.get(partition);
    return slot !== undefined && slot.held && this.#now() < slot.validUntil;
  }

  /** The partitions held now. */
  held(): number[] {
    return [...this.#slots.values()].filter((s) => this.holds(s.partition)).map((s) => s.partition);
  }

  /**
   * Takes every free lease (and starts its partition), then keeps renewing and watching. Throws
   * what a first `acquired` threw (the service cannot start); partitions held by another process
   * are taken later, when released or run out.
   */
  async start(): Promise<void> {
    this.#store = await this.#o.bus.store(BUCKETS.leases);
    await this.#startWatch();
    // Renewals run from the first lease taken: starting a partition may take a while.
    this.#ticker = setInterval(() => this.#tick(), leaseRenewMs(this.#o.ttlMs));
    this.#ticker.unref();
    await Promise.all([...this.#slots.values()].map((s) => this.#acquire(s)));
    await Promise.all([...this.#slots.values()].map((s) => s.chain));
    const failed = [...this.#slots.values()].find((s) => s.failure !== undefined);
    if (failed) {
      await this.stop();
      throw failed.failure;
    }
    this.#log.info({ held: this.held(), holder: this.holder }, 'partition leases started');
  }

  /** Drains each held partition (`lost(p, 'released')`), then writes its lease released. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      // Renewals go on while the partitions drain: the lease must outlive the grace period.
      await Promise.all(
        [...this.#slots.values()].map(async (slot) => {
          await slot.chain;
          if (slot.held) await this.#release(slot);
        }),
      );
      clearInterval(this.#ticker);
      this.#watch?.stop();
      await this.#watch?.done.catch(() => undefined);
    })();
    return this.#stopped;
  }

  #tick(): void {
    for (const slot of this.#slots.values()) {
      if (slot.busy) continue;
      if (slot.held) void this.#renew(slot);
      else if (!this.#stopping) void this.#acquire(slot);
    }
  }

  /** A released or deleted lease of ours to take: look at once instead of at the next tick. */
  async #startWatch(): Promise<void> {
    const kv = await this.#o.bus.kv(BUCKETS.leases);
    const iter = await kv.watch({ key: `${this.#o.stage}.*`, include: KvWatchInclude.UpdatesOnly });
    const done = (async () => {
      for await (const entry of iter) {
        const partition = Number(entry.key.slice(this.#o.stage.length + 1));
        const slot = this.#slots.get(partition);
        if (!slot || slot.held || this.#stopping) continue;
        let free = entry.operation !== 'PUT';
        if (!free) {
          try {
            free = leaseCodec.decode(entry.value).released === true;
          } catch {
            free = false;
          }
        }
        if (free && slot.busy) slot.recheck = true;
        else if (free) void this.#acquire(slot);
      }
    })();
    done.catch((err: unknown) =>
      this.#log.warn({ err }, 'lease watch ended; leases are still looked at periodically'),
    );
    this.#watch = { stop: () => iter.stop(), done };
  }

  #value(released = false): Uint8Array {
    const lease: Lease = { v: 1, holder: this.holder, ttlMs: this.#o.ttlMs };
    if (released) lease.released = true;
    return leaseCodec.encode(lease);
  }

  async #acquire(slot: Slot): Promise<void> {
    if (slot.busy || slot.held || this.#stopping) return;
    const store = this.#store!;
    slot.busy = true;
    try {
      const entry = await store.get(slot.key);
      const seenAt = this.#now();
      const sentAt = this.#now();
      if (!entry || entry.operation !== 'PUT') {
        this.#took(slot, sentAt, await store.create(slot.key, this.#value()), false);
        return;
      }
      let lease: Lease | undefined;
      try {
        lease = decodeValue(leaseCodec, BUCKETS.leases, slot.key, entry.value);
      } catch (err) {
        this.#log.warn(
          { err, partition: slot.partition },
          'unreadable lease: taken once it has not changed for its lifetime',
        );
      }
      if (lease && (lease.holder === this.holder || lease.released === true)) {
        this.#took(slot, sentAt, await store.update(slot.key, this.#value(), entry.revision), false);
        return;
      }
      if (slot.seen?.revision !== entry.revision) {
        slot.seen = { revision: entry.revision, at: seenAt };
        return;
      }
      const ttl = Math.max(this.#o.ttlMs, lease?.ttlMs ?? 0);
      if (seenAt - slot.seen.at < ttl + leaseMarginMs(ttl)) return;
      this.#took(slot, sentAt, await store.update(slot.key, this.#value(), entry.revision), true);
      this.#log.warn(
        { partition: slot.partition, previous: lease?.holder },
        'partition lease taken over: its holder stopped renewing it',
      );
    } catch (err) {
      slot.seen = undefined;
      if (!isCasConflict(err)) this.#log.warn({ err, partition: slot.partition }, 'lease acquisition failed');
    } finally {
      slot.busy = false;
      if (slot.recheck) {
        slot.recheck = false;
        void this.#acquire(slot);
      }
    }
  }

  #took(slot: Slot, sentAt: number, revision: number, takeover: boolean): void {
    slot.revision = revision;
    slot.seen = undefined;
    if (this.#stopping) {
      // Stopping meanwhile: hand it back at once rather than let it run out.
      void this.#store!.update(slot.key, this.#value(true), revision).catch(() => undefined);
      return;
    }
    slot.held = true;
    slot.validUntil = sentAt + this.#o.ttlMs - this.#marginMs;
    this.#armExpiry(slot);
    const labels = { stage: this.#o.stage };
    this.#o.metrics?.partitionsOwned.inc(labels);
    if (takeover) this.#o.metrics?.leaseTakeovers.inc(labels);
    this.#log.info({ partition: slot.partition }, 'partition lease acquired');
    slot.failure = undefined;
    slot.chain = slot.chain
      .then(() => (slot.held ? this.#o.acquired(slot.partition) : undefined))
      .catch(async (err: unknown) => {
        // Tried again at a later tick (a first start fails the service: start()).
        slot.failure = err;
        this.#log.error({ err, partition: slot.partition }, 'partition failed to start; releasing its lease');
        if (slot.held) await this.#release(slot, true);
      });
  }

  #armExpiry(slot: Slot): void {
    clearTimeout(slot.expiry);
    slot.expiry = setTimeout(
      () => {
        if (slot.held && this.#now() >= slot.validUntil) this.#lose(slot, 'expired');
        else if (slot.held) this.#armExpiry(slot);
      },
      Math.max(0, slot.validUntil - this.#now()),
    );
    slot.expiry.unref();
  }

  async #renew(slot: Slot): Promise<void> {
    const store = this.#store!;
    slot.busy = true;
    const sentAt = this.#now();
    try {
      const revision = await store.update(slot.key, this.#value(), slot.revision);
      slot.revision = revision;
      if (slot.held) {
        slot.validUntil = sentAt + this.#o.ttlMs - this.#marginMs;
        this.#armExpiry(slot);
      }
    } catch (err) {
      if (!isCasConflict(err)) {
        // Not renewed this time: the lease runs out on its own unless a later renewal succeeds.
        this.#log.warn({ err, partition: slot.partition }, 'lease renewal failed');
        return;
      }
      // Ours may have been stored with its answer lost: then keep its revision, not its time.
      const entry = await store.get(slot.key).catch(() => null);
      const lease = entry?.operation === 'PUT' ? safeDecode(entry.value) : undefined;
      if (entry && lease?.holder === this.holder && lease.released !== true) slot.revision = entry.revision;
      else if (slot.held) this.#lose(slot, 'taken');
    } finally {
      slot.busy = false;
    }
  }

  /** Stops consuming the partition at once: the lease is no longer ours. */
  #lose(slot: Slot, why: 'expired' | 'taken'): void {
    if (!slot.held) return;
    slot.held = false;
    slot.validUntil = -Infinity;
    clearTimeout(slot.expiry);
    const labels = { stage: this.#o.stage };
    this.#o.metrics?.partitionsOwned.dec(labels);
    this.#o.metrics?.leaseLosses.inc({ ...labels, reason: why });
    this.#log.warn({ partition: slot.partition, why }, 'partition lease lost: no longer consuming it');
    slot.chain = slot.chain
      .then(() => this.#o.lost(slot.partition, why))
      .catch((err: unknown) => this.#log.error({ err, partition: slot.partition }, 'partition stop failed'));
  }

  /** Drains the partition (unless it failed to start), then writes the lease released. */
  async #release(slot: Slot, failed = false): Promise<void> {
    if (!failed)
      await this.#o.lost(slot.partition, 'released').catch((err: unknown) => {
        this.#log.error({ err, partition: slot.partition }, 'partition drain failed');
      });
    if (!slot.held) return; // ran out or taken meanwhile: nothing of ours to release
    slot.held = false;
    clearTimeout(slot.expiry);
    this.#o.metrics?.partitionsOwned.dec({ stage: this.#o.stage });
    // Wait for a renewal in flight: its revision is the one to release.
    while (slot.busy) await new Promise((r) => setTimeout(r, 10));
    try {
      slot.revision = await this.#store!.update(slot.key, this.#value(true), slot.revision);
      this.#log.info({ partition: slot.partition }, 'partition lease released');
    } catch (err) {
      this.#log.warn({ err, partition: slot.partition }, 'lease release failed: it runs out instead');
    }
  }
}

function safeDecode(bytes: Uint8Array): Lease | undefined {
  try {
    return leaseCodec.decode(bytes);
  } catch {
    return undefined;
  }
}
