// Random splits without randomness: a hash of stable ids mapped to [0, 100) and laid over the
// cumulative branch weights. Sticky splits hash the user and the step, so a user lands on the
// same branch in every instance; the others hash the instance and the visit, so each entry
// (and each pass through the step) is drawn afresh.
import { unitOf } from './hash.js';
import type { RandomSplitBranch, RandomSplitStep } from './types.js';

export interface SplitDraw {
  userKey: string;
  instanceId: string;
  /** The visit of the step in this instance (1 for the first pass). */
  visit: number;
}

/** The point in [0, 100) a draw lands on for this step. */
export function splitPoint(step: RandomSplitStep, draw: SplitDraw): number {
  const u = step.sticky
    ? unitOf('sticky', draw.userKey, step.id)
    : unitOf('draw', draw.instanceId, step.id, draw.visit);
  return u * 100;
}

/** The branch whose cumulative weight band holds the draw (the last branch absorbs rounding). */
export function pickRandomBranch(step: RandomSplitStep, draw: SplitDraw): RandomSplitBranch | undefined {
  const point = splitPoint(step, draw);
  const total = step.branches.reduce((sum, b) => sum + b.weight, 0);
  // Weights sum to 100 in a valid journey; scaling keeps a hand-built one proportional.
  const scaled = total > 0 ? (point * total) / 100 : 0;
  let upper = 0;
  for (const branch of step.branches) {
    upper += branch.weight;
    if (scaled < upper) return branch;
  }
  return step.branches.at(-1);
}
