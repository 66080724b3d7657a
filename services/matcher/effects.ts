// The effects of a decision, published after its commit with deterministic Nats-Msg-Ids
// (DESIGN.md §2): JetStream drops a repeat, so re-publishing recorded commands is safe.
import {
  DeliverJobMessage,
  JournalMessage,
  publishWithId,
  subjects,
  TimerMessage,
  type Bus,
} from '../../libs/bus/index.js';
import type { Command, Instance } from '../../libs/journey/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import { countJourneyRecord } from './journey-metrics.js';
import { countUserLimitRefusal } from './rate.js';
import { retentionOverdue, scheduleRetention, type InstanceAt } from './retention.js';

export interface EffectsContext {
  bus: Bus;
  metrics: Metrics;
  timerBucketMs: number;
  /** How long an ended instance is kept whole (retention.ts). */
  instanceRetentionMs: number;
}

/**
 * Publishes `commands` of a decision about the instance at `t`; `committed` is the instance the
 * decision left (undefined: none). The decision's journal records go out as one message (its
 * first journal command's id as Nats-Msg-Id), each record counted once. An instance that ended
 * gets its retention timer.
 */
export async function publishCommands(
  ctx: EffectsContext,
  t: InstanceAt,
  commands: readonly Command[],
  committed: Instance | undefined,
): Promise<void> {
  const { bus } = ctx;
  const p = t.partition;
  const userKey = t.userKey;
  const journal = commands.filter((c) => c.kind === 'journal');
  const now = Date.now();
  await Promise.all([
    journal.length > 0 ? publishJournal(ctx, p, journal) : undefined,
    // An ended instance past its retention that was never retired gets its retention now.
    retentionOverdue(committed, ctx.instanceRetentionMs, now) &&
    !commands.some((c) => c.kind === 'instance.end')
      ? scheduleRetention(ctx, t, committed!, now)
      : undefined,
    ...commands.map(async (c) => {
      switch (c.kind) {
        case 'timer.start': {
          const bytes = TimerMessage.encode({
            v: 1,
            kind: 'timer',
            journeyId: c.journeyId,
            userKey: c.userKey,
            instanceKey: c.instanceKey,
            token: c.token,
            at: c.at,
          });
          const bucket = Math.floor(c.at / ctx.timerBucketMs);
          await publishWithId(bus.lean, subjects.timerBucket(p, bucket), bytes, c.token);
          return;
        }
        case 'deliver': {
          const bytes = DeliverJobMessage.encode({
            v: 1,
            deliveryId: c.deliveryId,
            destination: c.destination,
            userKey,
            stepKey: c.stepKey,
            payload: c.payload,
            eventReceivedAt: c.eventReceivedAt,
            eventTimestamp: c.eventTimestamp,
          });
          await publishWithId(bus.lean, subjects.deliver(p), bytes, c.deliveryId);
          return;
        }
        case 'instance.end':
          // Journaled by the core ('completed' / 'exited'); the instance stays as the record for
          // the retention window. Not when the same input entered the key again.
          if (committed && committed.status !== 'active' && committed.id === c.instanceId) {
            await scheduleRetention(ctx, t, committed);
          }
          return;
        case 'journal':
          // Above, in one message.
          return;
      }
    }),
  ]);
}

type JournalCommand = Extract<Command, { kind: 'journal' }>;

async function publishJournal(ctx: EffectsContext, p: number, journal: JournalCommand[]): Promise<void> {
  const records = journal.map((c) => c.record);
  // One decision is about one journey: its records share the subject.
  const first = journal[0]!;
  const res = await publishWithId(
    ctx.bus.lean,
    subjects.journal(first.record.journeyId, p),
    JournalMessage.encode(records),
    first.id,
  );
  if (res.duplicate) return;
  for (const record of records) {
    ctx.metrics.journal.inc({ journey: record.journeyId, type: record.type });
    countJourneyRecord(ctx.metrics, record);
    countUserLimitRefusal(ctx.metrics.registry, record);
  }
}
