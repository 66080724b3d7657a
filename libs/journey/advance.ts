// Moving an instance through its steps until it waits or ends, and ending a wait (a timer that
// fired, or a deadline an event's receive time shows has passed).
import { evaluateConditions, parseInstant, readPath } from './conditions.js';
import { contextRoot } from './context.js';
import { endInstance } from './end.js';
import { beginHold } from './hold.js';
import { pickRandomBranch } from './random-split.js';
import { journal, MAX_TRANSITIONS, type Run } from './run.js';
import { emitSend } from './send.js';
import type { DelayStep, Instance, Instant } from './types.js';
import { clearWait, setWait } from './wait.js';

/** A timestamp read from the context: epoch milliseconds, or an ISO-8601 string. */
function instantOf(value: unknown): Instant | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return parseInstant(value);
  return undefined;
}

/** The instant a delay ends, or why it does not wait at all. */
function delayEnd(run: Run, instance: Instance, step: DelayStep, at: Instant): Instant | 'missing' | 'past' {
  if ('after' in step) return at + step.after;
  const root = contextRoot(run.journey, instance, run.ctx.profile);
  const base = instantOf(readPath(root, step.until));
  if (base === undefined) return 'missing';
  const end = base + step.offset;
  return end <= at ? 'past' : end;
}

/** Runs steps from `from` at logical time `at` until the instance waits or ends. */
export function advance(run: Run, instance: Instance, from: string | null | undefined, at: Instant): void {
  let next = from;
  for (;;) {
    if (next === undefined || next === null) {
      endInstance(run, instance, 'completed', 'end_of_path');
      return;
    }
    if (++run.transitions > MAX_TRANSITIONS) {
      // Only a journey that skipped validation (a cycle) gets here; end it rather than spin.
      endInstance(run, instance, 'exited', 'step_loop', {
        stepId: next,
        detail: { transitions: MAX_TRANSITIONS },
      });
      return;
    }
    const step = run.journey.steps[next];
    if (step === undefined) {
      endInstance(run, instance, 'exited', 'unknown_step', { stepId: next });
      return;
    }
    const visit = (instance.visits[step.id] ?? 0) + 1;
    instance.visits[step.id] = visit;
    instance.stepId = step.id;
    journal(run, instance, 'step', { stepId: step.id, detail: { type: step.type, visit } });
    switch (step.type) {
      case 'send':
        emitSend(run, instance, step, step.id, visit, at);
        next = step.next;
        break;
      case 'exit':
        endInstance(run, instance, 'completed', 'exit_step', { stepId: step.id });
        return;
      case 'data_split': {
        const root = contextRoot(run.journey, instance, run.ctx.profile);
        const branch = step.branches.find((b) => evaluateConditions(b.where, root));
        journal(run, instance, 'branch', { stepId: step.id, branchId: branch?.id ?? 'else' });
        next = branch ? branch.next : step.else;
        break;
      }
      case 'random_split': {
        const branch = pickRandomBranch(step, { userKey: instance.userKey, instanceId: instance.id, visit });
        journal(run, instance, 'branch', { stepId: step.id, ...(branch && { branchId: branch.id }) });
        next = branch?.next;
        break;
      }
      case 'delay': {
        const end = delayEnd(run, instance, step, at);
        if (typeof end === 'number') {
          setWait(run, instance, step.id, at, end);
          journal(run, instance, 'waiting', { stepId: step.id, detail: { until: end } });
          return;
        }
        journal(run, instance, 'step', {
          stepId: step.id,
          reason: end === 'missing' ? 'delay_until_missing' : 'delay_until_past',
        });
        next = step.next;
        break;
      }
      case 'hold_until': {
        const flow = beginHold(run, instance, step, at);
        if (flow.wait) return;
        next = flow.next;
        break;
      }
    }
  }
}

/**
 * Ends the current wait at its deadline, as the timer would: a delay goes on to its next step,
 * a hold takes its timeout branch. Effects happen at the deadline, whatever input revealed it.
 */
export function completeWait(run: Run, instance: Instance, at: Instant): void {
  const stepId = String(instance.stepId);
  const step = run.journey.steps[stepId];
  clearWait(instance);
  run.cause = { receivedAt: at, timestamp: at };
  if (step?.type === 'hold_until') {
    journal(run, instance, 'timer.fired', { stepId, reason: 'timeout', detail: { due: at } });
    advance(run, instance, step.timeout.next, at);
  } else if (step?.type === 'delay') {
    journal(run, instance, 'timer.fired', { stepId, reason: 'delay_elapsed', detail: { due: at } });
    advance(run, instance, step.next, at);
  } else {
    endInstance(run, instance, 'exited', 'unknown_step', { stepId });
  }
}
