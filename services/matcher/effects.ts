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
import type { Command } from '../../libs/journey/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import { countUserLimitRefusal } from './rate.js';

export interface EffectsContext {
  bus: Bus;
  metrics: Metrics;
  timerBucketMs: number;
}

/** Publishes `commands` for a user on partition `p`; journal records are counted once each. */
export async function publishCommands(
  ctx: EffectsContext,
  p: number,
  userKey: string,
  commands: readonly Command[],
): Promise<void> {
  const { bus } = ctx;
  await Promise.all(
    commands.map(async (c) => {
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
          await publishWithId(bus.js, subjects.timerBucket(p, bucket), bytes, c.token);
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
          await publishWithId(bus.js, subjects.deliver(p), bytes, c.deliveryId);
          return;
        }
        case 'journal': {
          const { record } = c;
          const res = await publishWithId(
            bus.js,
            subjects.journal(record.journeyId, p),
            JournalMessage.encode(record),
            c.id,
          );
          if (!res.duplicate) {
            ctx.metrics.journal.inc({ journey: record.journeyId, type: record.type });
            countUserLimitRefusal(ctx.metrics.registry, record);
          }
          return;
        }
        case 'instance.end':
          // Journaled by the core ('completed' / 'exited'); the instance stays as the record.
          return;
      }
    }),
  );
}
