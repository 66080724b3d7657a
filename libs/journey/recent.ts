// Lookback memory: events a later hold with `lookback` may want, kept while the instance is not
// in a hold listening for them. Bounded by count and by the longest lookback of the journey.
import type { CompiledJourney, EventSnapshot, Instance } from './types.js';

export const MAX_RECENT = 20;

/** The longest lookback of the holds listening to `name` (undefined: nobody looks back for it). */
export function lookbackFor(journey: CompiledJourney, name: string): number | undefined {
  let longest: number | undefined;
  for (const stepId of journey.index[name]?.holds ?? []) {
    const step = journey.steps[stepId];
    if (step?.type === 'hold_until' && step.lookback !== undefined) {
      longest = Math.max(longest ?? 0, step.lookback);
    }
  }
  return longest;
}

/** The longest lookback of any hold of the journey: older memories are of no use. */
export function longestLookback(journey: CompiledJourney): number {
  let longest = 0;
  for (const step of Object.values(journey.steps)) {
    if (step.type === 'hold_until' && step.lookback !== undefined) longest = Math.max(longest, step.lookback);
  }
  return longest;
}

/** Remembers `snapshot` if a hold with lookback listens to it; returns whether it did. */
export function rememberRecent(
  journey: CompiledJourney,
  instance: Instance,
  snapshot: EventSnapshot,
): boolean {
  if (lookbackFor(journey, snapshot.name) === undefined) return false;
  const current = journey.steps[String(instance.stepId)];
  if (current?.type === 'hold_until' && current.branches.some((b) => b.event === snapshot.name)) return false;
  const horizon = snapshot.receivedAt - longestLookback(journey);
  instance.recent = [...instance.recent.filter((e) => e.receivedAt >= horizon), snapshot].slice(-MAX_RECENT);
  return true;
}
