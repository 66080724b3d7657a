// Hold until: wait for one of the branch events or the timeout. A restart branch goes back to
// the start of the hold (new deadline from the event, context refreshed), at most
// `limits.maxRestarts` times; past the cap the event is ignored and the hold keeps its deadline.
import { evaluateConditions } from './conditions.js';
import { captureEvent } from './context.js';
import { journal, type Run } from './run.js';
import type { EventSnapshot, HoldBranch, HoldStep, Instance, Instant } from './types.js';
import { clearWait, setWait } from './wait.js';

/** What happens after a step: the instance waits, or goes on to `next` (undefined: completes). */
export type Flow = { wait: true } | { wait: false; next: string | undefined };

/**
 * The branch an event takes in a hold. `view` is what the branch's `where` reads (the event);
 * `keyMatches` says whether the event carries this instance's key (always true for once).
 */
export function matchHoldBranch(
  step: HoldStep,
  name: string,
  view: object,
  keyMatches: boolean,
): HoldBranch | undefined {
  if (!keyMatches) return undefined;
  return step.branches.find((b) => b.event === name && evaluateConditions(b.where, view));
}

/** Applies a matched branch at `at` (the event's receive time, or the hold start for lookback). */
export function applyHoldMatch(
  run: Run,
  instance: Instance,
  step: HoldStep,
  branch: HoldBranch,
  snapshot: EventSnapshot,
  at: Instant,
): Flow {
  const ids = { stepId: step.id, branchId: branch.id };
  if (!branch.restart) {
    captureEvent(instance, snapshot, branch.id);
    clearWait(instance);
    journal(run, instance, 'branch', {
      ...ids,
      detail: { event: snapshot.name, messageId: snapshot.messageId },
    });
    return { wait: false, next: branch.next };
  }
  const count = instance.restarts[step.id] ?? 0;
  if (count >= run.journey.limits.maxRestarts) {
    journal(run, instance, 'refused', {
      ...ids,
      reason: 'restart_limit',
      detail: { restarts: count, messageId: snapshot.messageId },
    });
    return { wait: true };
  }
  instance.restarts[step.id] = count + 1;
  captureEvent(instance, snapshot, branch.id);
  const until = at + step.timeout.after;
  setWait(run, instance, step.id, at, until);
  journal(run, instance, 'restarted', { ...ids, detail: { restarts: count + 1, until } });
  return { wait: true };
}

/**
 * Begins a hold at `at`. With `lookback`, the oldest remembered event that a branch takes and
 * that arrived within the lookback window is applied at once (at most one: a restart it causes
 * does not look back again).
 */
export function beginHold(run: Run, instance: Instance, step: HoldStep, at: Instant): Flow {
  const until = at + step.timeout.after;
  setWait(run, instance, step.id, at, until);
  journal(run, instance, 'waiting', { stepId: step.id, detail: { until } });
  if (step.lookback === undefined) return { wait: true };
  const since = at - step.lookback;
  for (let i = 0; i < instance.recent.length; i++) {
    const seen = instance.recent[i];
    if (seen === undefined || seen.receivedAt < since || seen.receivedAt > at) continue;
    const branch = matchHoldBranch(step, seen.name, seen, true);
    if (branch === undefined) continue;
    instance.recent.splice(i, 1);
    journal(run, instance, 'step', {
      stepId: step.id,
      branchId: branch.id,
      reason: 'lookback',
      detail: { messageId: seen.messageId, receivedAt: seen.receivedAt },
    });
    return applyHoldMatch(run, instance, step, branch, seen, at);
  }
  return { wait: true };
}
