// Waits (holds and delays): a deadline, and a token that names the one timer allowed to end it.
import { hashParts } from './hash.js';
import type { Run } from './run.js';
import type { Instance, Instant } from './types.js';

/**
 * Begins (or restarts) a wait in `stepId` from `from` to `until`. The token hashes the instance,
 * the step, its visit and its restart count, so every wait gets its own and old timers go stale.
 */
export function setWait(run: Run, instance: Instance, stepId: string, from: Instant, until: Instant): void {
  instance.stepId = stepId;
  instance.waitStartedAt = from;
  instance.waitUntil = until;
  // The visit is always counted (advance() enters the step first); restarts start at none.
  const token = hashParts(
    'wait',
    instance.id,
    stepId,
    String(instance.visits[stepId]),
    instance.restarts[stepId] ?? 0,
  );
  instance.waitToken = token;
  run.wait = { token, at: until };
}

export function clearWait(instance: Instance): void {
  delete instance.waitStartedAt;
  delete instance.waitUntil;
  delete instance.waitToken;
}
