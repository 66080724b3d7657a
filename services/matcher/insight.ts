// The journal projection (libs/insight) runs in the matcher processes, in one of them at a time:
// the one holding the lease `insight.0` (KV `cairn_leases`). Another replica takes it over when
// that one stops or dies, and goes on from the checkpoint.
import { PartitionLeases } from '../../libs/bus/index.js';
import { startJournalProjection, type JournalProjection } from '../../libs/insight/index.js';
import type { ServiceContext } from '../../libs/telemetry/index.js';

export const INSIGHT_STAGE = 'insight';

export interface InsightRunner {
  /** Whether this process projects now. */
  projecting(): boolean;
  stop(): Promise<void>;
}

export async function startInsight(ctx: ServiceContext): Promise<InsightRunner> {
  const log = ctx.logger.child({ component: 'insight' });
  let projection: JournalProjection | undefined;
  const leases = new PartitionLeases({
    bus: ctx.bus,
    stage: INSIGHT_STAGE,
    partitions: [0],
    ttlMs: ctx.config.leaseTtlMs,
    log,
    acquired: async () => {
      projection = await startJournalProjection({ bus: ctx.bus, log });
      log.info({ from: projection.committed() }, 'journal projection started');
    },
    lost: async (_p, why) => {
      const p = projection;
      projection = undefined;
      await p?.stop();
      log.info({ why }, 'journal projection stopped');
    },
  });
  await leases.start();
  return {
    projecting: () => projection !== undefined,
    stop: () => leases.stop(),
  };
}
