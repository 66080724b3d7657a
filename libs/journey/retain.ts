// Retention of ended instances (DESIGN.md §5.10): once an instance has been completed or exited
// for the retention window, what must it still answer? An `every_time` instance nothing: its key
// may be entered again anyway, so it is removed. A `once` instance must refuse re-entry for ever:
// it is reduced to a compact record — identity, status, epoch and the ids of its last inputs (a
// redelivered one stays a duplicate) — without context, lookback memory or recorded commands.
import type { Entry, Instance, Instant } from './types.js';

export type Retention =
  | { action: 'keep'; reason: 'absent' | 'other_instance' | 'active' | 'compacted' }
  | { action: 'compact'; instance: Instance }
  | { action: 'remove' };

/**
 * What retention does to the instance found at a key when the retention of instance `instanceId`
 * is due: nothing unless it is still that instance and has ended; then remove it, or compact it
 * when its journey version enters `once` (or its version is unknown: the safe side).
 */
export function retentionOf(
  instance: Instance | undefined,
  instanceId: string,
  mode: Entry['mode'] | undefined,
  at: Instant,
): Retention {
  if (!instance) return { action: 'keep', reason: 'absent' };
  if (instance.id !== instanceId) return { action: 'keep', reason: 'other_instance' };
  if (instance.status === 'active') return { action: 'keep', reason: 'active' };
  if (mode === 'every_time') return { action: 'remove' };
  if (instance.compactedAt !== undefined) return { action: 'keep', reason: 'compacted' };
  return { action: 'compact', instance: compactEnded(instance, at) };
}

/** An ended instance reduced to what decide() reads of it: enough to refuse a `once` re-entry
 * and to recognise its last inputs, with none of their data. */
export function compactEnded(instance: Instance, at: Instant): Instance {
  const { entry } = instance.context;
  return {
    v: 1,
    id: instance.id,
    journeyId: instance.journeyId,
    version: instance.version,
    userKey: instance.userKey,
    instanceKey: instance.instanceKey,
    ...(instance.userId !== undefined && { userId: instance.userId }),
    ...(instance.anonymousId !== undefined && { anonymousId: instance.anonymousId }),
    epoch: instance.epoch,
    status: instance.status,
    enteredAt: instance.enteredAt,
    updatedAt: instance.updatedAt,
    stepId: null,
    visits: {},
    restarts: {},
    context: {
      entry: {
        name: entry.name,
        messageId: entry.messageId,
        timestamp: entry.timestamp,
        receivedAt: entry.receivedAt,
        properties: {},
      },
      events: {},
    },
    recent: [],
    applied: instance.applied.map((a) => ({ inputId: a.inputId, commands: [] })),
    ...(instance.endReason !== undefined && { endReason: instance.endReason }),
    compactedAt: at,
  };
}
