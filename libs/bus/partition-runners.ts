// The runners of a partitioned stage (matcher, sender), one per partition, each started while
// this process holds the partition's lease (lease.ts) and stopped when it does not: a process
// that lost a lease stops pulling that partition, and a message already in hand is handled only
// if the lease is still held at that instant (checked on the monotonic clock before each run of
// the handler). A graceful stop drains each partition, then releases its lease.
import { PartitionLeases, type LeaseEnd, type LeaseMetrics } from './lease.js';
import { handBack } from './outcome.js';
import { startRunner, STOP_NAK_DELAY_MS, type Runner, type RunnerOptions } from './runner.js';

export interface PartitionRunnersOptions extends Omit<RunnerOptions, 'subjects' | 'maxMessages'> {
  /** The partitions this process should run (the static ordinal's share). */
  partitions: number[];
  /** The consumer filter of partition p. */
  subjectOf(partition: number): string;
  /** Lease lifetime (CAIRN_LEASE_TTL). */
  leaseTtlMs: number;
  metrics?: RunnerOptions['metrics'] & LeaseMetrics;
  /** This process's name in the lease values (default host/pid/random). */
  holder?: string;
}

export interface PartitionRunners {
  isReady(): boolean;
  /** The partitions whose lease is held now. */
  held(): number[];
  /** Whether partition p may be consumed now. */
  holds(partition: number): boolean;
  /** Stop pulling every partition, let in-flight work finish within `graceMs`, nak the rest,
   * then release the leases. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the leases, and a runner for each partition whose lease is taken; returns once every
 * free partition consumes (a partition another process holds is taken when it is released or
 * runs out). Handler concurrency is shared out: each partition gets `concurrency / partitions`
 * (at least 1), and pulls as many messages as a runner of the whole stage would.
 */
export async function startPartitionRunners(opts: PartitionRunnersOptions): Promise<PartitionRunners> {
  const { partitions, leaseTtlMs, holder, ...runnerOpts } = opts;
  const subjectOf = (p: number): string => opts.subjectOf(p);
  const perPartition = Math.max(1, Math.ceil(opts.concurrency / Math.max(1, partitions.length)));
  const running = new Map<number, Runner>();
  let graceMs = 0;
  let ready = false;

  const startPartition = async (p: number): Promise<void> => {
    const runner = startRunner({
      ...runnerOpts,
      subjects: [subjectOf(p)],
      concurrency: perPartition,
      maxMessages: Math.max(16, opts.concurrency * 2),
      // The lease is checked before each run: a message in hand when it ran out goes back.
      handler: (msg, ctx) =>
        leases.holds(p) ? opts.handler(msg, ctx) : Promise.resolve(handBack(STOP_NAK_DELAY_MS)),
    });
    running.set(p, runner);
    try {
      await runner.ready;
    } catch (err) {
      running.delete(p);
      await runner.stop(0);
      throw err;
    }
  };

  const stopPartition = async (p: number, why: LeaseEnd): Promise<void> => {
    const runner = running.get(p);
    if (!runner) return;
    running.delete(p);
    // Lost: stop at once (work in flight finishes on its own, fenced by the stage's CAS and
    // idempotency); released: drain within the grace period.
    await runner.stop(why === 'released' ? graceMs : 0);
  };

  const leases = new PartitionLeases({
    bus: opts.bus,
    stage: opts.stage,
    partitions,
    ttlMs: leaseTtlMs,
    acquired: startPartition,
    lost: stopPartition,
    log: opts.logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(holder !== undefined ? { holder } : {}),
  });
  await leases.start();
  ready = true;

  let stopped: Promise<void> | undefined;
  return {
    isReady: () => ready,
    held: () => leases.held(),
    holds: (p) => leases.holds(p),
    stop(grace) {
      stopped ??= (async () => {
        ready = false;
        graceMs = grace;
        await leases.stop();
        // A runner whose lease ran out while draining was stopped already; anything left over.
        await Promise.all([...running.keys()].map((p) => stopPartition(p, 'released')));
      })();
      return stopped;
    },
  };
}
