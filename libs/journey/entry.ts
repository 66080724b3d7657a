// Entry: whether an event starts an instance, and starting it. Each refusal is journaled with a
// reason and changes nothing.
import { advance } from './advance.js';
import { evaluateConditions } from './conditions.js';
import { snapshotOf } from './context.js';
import { hashParts } from './hash.js';
import { journal, type Run } from './run.js';
import type { Instance, NormalizedEvent } from './types.js';

export type RefusalReason =
  | 'filter_failed'
  | 'not_accepting_entries'
  | 'audience_missing'
  | 'unique_by_missing'
  | 'already_entered'
  | 'rate_limited'
  | 'per_user_limit';

/** Why the trigger event may not start an instance, or undefined when it may. */
export function refusalOf(
  run: Run,
  previous: Instance | undefined,
  event: NormalizedEvent,
  key: string | undefined,
): { reason: RefusalReason; detail?: Record<string, unknown> } | undefined {
  const { journey, ctx } = run;
  const { trigger, entry } = journey.doc;
  const limits = journey.limits;
  if (!evaluateConditions(trigger.where, event)) return { reason: 'filter_failed' };
  if (!ctx.acceptsEntries) return { reason: 'not_accepting_entries' };
  if (trigger.audience !== undefined && !ctx.profile.audiences.includes(trigger.audience)) {
    return { reason: 'audience_missing', detail: { audience: trigger.audience } };
  }
  if (entry.mode === 'every_time' && (key === undefined || key.length > limits.maxUniqueByValueLength)) {
    return {
      reason: 'unique_by_missing',
      detail: { uniqueBy: entry.uniqueBy, ...(key !== undefined && { length: key.length }) },
    };
  }
  if (previous !== undefined && (entry.mode === 'once' || previous.status === 'active')) {
    return { reason: 'already_entered', detail: { instanceId: previous.id, status: previous.status } };
  }
  if (ctx.user.eventsLastSecond >= limits.perUserEventsPerSecond) {
    return { reason: 'rate_limited', detail: { limit: limits.perUserEventsPerSecond } };
  }
  if (ctx.user.activeInstances >= limits.perUserConcurrentInstances) {
    return { reason: 'per_user_limit', detail: { limit: limits.perUserConcurrentInstances } };
  }
  return undefined;
}

/** Journals a refusal. The refused event changes no instance. */
export function refuse(run: Run, reason: RefusalReason, detail?: Record<string, unknown>): void {
  journal(run, undefined, 'refused', { reason, ...(detail && { detail }) });
}

/**
 * Starts an instance at `key` (epoch n+1 after an ended one), journals the entry and runs its
 * first steps. The previous epoch's applied inputs carry over, so a redelivery stays a duplicate.
 */
export function enter(
  run: Run,
  previous: Instance | undefined,
  event: NormalizedEvent,
  key: string,
): Instance {
  const { journey } = run;
  const epoch = (previous?.epoch ?? 0) + 1;
  const instance: Instance = {
    v: 1,
    id: hashParts(journey.id, event.userKey, key, epoch, event.messageId),
    journeyId: journey.id,
    version: journey.version,
    userKey: event.userKey,
    instanceKey: key,
    ...(event.userId !== undefined && { userId: event.userId }),
    ...(event.anonymousId !== undefined && { anonymousId: event.anonymousId }),
    epoch,
    status: 'active',
    enteredAt: event.receivedAt,
    updatedAt: run.ctx.now,
    stepId: null,
    visits: {},
    restarts: {},
    context: { entry: snapshotOf(event), events: {} },
    recent: [],
    applied: previous?.applied ?? [],
  };
  journal(run, instance, 'entered', { detail: { epoch, messageId: event.messageId } });
  advance(run, instance, journey.start, event.receivedAt);
  return instance;
}
