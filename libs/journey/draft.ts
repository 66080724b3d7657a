// What the section parsers produced: a document whose parts may be missing because they failed
// their schema. The cross-step checks run on whatever parsed, so one typo hides nothing else.
import type { EventDeclaration, Entry, Exit, Step, Trigger } from './types.js';

export interface Draft {
  id?: string;
  name?: string;
  description?: string;
  trigger?: Trigger;
  entry?: Entry;
  exit?: Exit;
  /** Parsed steps, undefined where a step failed its schema. */
  steps: Array<Step | undefined>;
  /** The `id` of every step as written (for references and duplicates), even of a failed step. */
  stepIds: Array<string | undefined>;
  /** Every step as written, so that a step that failed its schema still has its references checked. */
  rawSteps: unknown[];
  events?: Record<string, EventDeclaration>;
  /** True when every step parsed and the steps section is a list. */
  stepsComplete: boolean;
  /** Whether exit was written as a list (so issue paths are `exit[0]`, not `exit.rules[0]`). */
  exitIsList: boolean;
}

/** The path of exit rule `i` as the author wrote it. */
export function exitRulePath(draft: Draft, i: number): Array<string | number> {
  return draft.exitIsList ? ['exit', i] : ['exit', 'rules', i];
}

/** Every branch of a step with its path, whatever the step type. */
export function stepBranches(step: Step): Array<{ id: string; next?: string }> {
  if (step.type === 'hold_until' || step.type === 'data_split' || step.type === 'random_split') {
    return step.branches;
  }
  return [];
}
