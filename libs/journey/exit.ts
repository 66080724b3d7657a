// Exit rules: checked at every event an active instance receives, before its steps, at any step
// (mid-delay and mid-hold included). The first matching rule ends the instance, after the
// optional exit send, whose context holds the exit event under its name.
import { evaluateConditions } from './conditions.js';
import { captureEvent, snapshotOf } from './context.js';
import { endInstance } from './end.js';
import { EXIT_SEND_STEP_ID } from './payload.js';
import type { Run } from './run.js';
import { emitSend } from './send.js';
import type { Instance, NormalizedEvent } from './types.js';

/** The index of the first exit rule the event meets, or -1. `key` is the event's instance key. */
export function matchExitRule(
  run: Run,
  instance: Instance,
  event: NormalizedEvent,
  key: string | undefined,
): number {
  return run.journey.doc.exit.rules.findIndex(
    (rule) =>
      rule.event === event.name &&
      evaluateConditions(rule.where, event) &&
      (!rule.sameKey || key === instance.instanceKey),
  );
}

/** Applies the exit rules; returns true when the instance exited. */
export function applyExitRules(
  run: Run,
  instance: Instance,
  event: NormalizedEvent,
  key: string | undefined,
): boolean {
  const rule = matchExitRule(run, instance, event, key);
  if (rule < 0) return false;
  const at = event.receivedAt;
  const send = run.journey.doc.exit.send;
  if (send !== undefined) {
    captureEvent(instance, snapshotOf(event));
    const visit = (instance.visits[EXIT_SEND_STEP_ID] ?? 0) + 1;
    instance.visits[EXIT_SEND_STEP_ID] = visit;
    emitSend(run, instance, send, EXIT_SEND_STEP_ID, visit, at);
  }
  endInstance(run, instance, 'exited', 'exit_rule', {
    ...(instance.stepId !== null && { stepId: instance.stepId }),
    detail: { rule, event: event.name, messageId: event.messageId },
  });
  return true;
}
