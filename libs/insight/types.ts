// What `cairn journey stats`, the admin API and the console read about a journey: counts per
// journey, version and step, projected from JOURNAL (docs/journeys.md "Stats, replay and
// shadows"). `cairn replay` prints the same shape for a draft run over past events.
import type { StepType } from '../journey/index.js';

/** The counts of one step of a version, in the document's order. */
export interface StepStats {
  stepId: string;
  type: StepType;
  /** Times an instance reached this step. */
  entered: number;
  /** Instances waiting in this step now (holds and delays; 0 for the others). Not windowed. */
  current: number;
  /** Hold: taken per branch id and `timeout`; split: taken per branch id. */
  branches?: Record<string, number>;
  /** Send: per destination, commands issued (`sent`) and refused at decision (`failed`). */
  sends?: Record<string, { sent: number; failed: number }>;
}

export interface JourneyStats {
  journeyId: string;
  /** The version counted; `null` when every version is summed. */
  version: number | null;
  /** Counts of the shadow version (journal records marked `shadow`). */
  shadow: boolean;
  /** The window counted: `since` null means all time (as kept). Epoch ms. */
  window: { since: number | null; until: number };
  entered: number;
  /** Refusals by reason (`filter_failed`, `already_entered`, ...). */
  refused: Record<string, number>;
  completed: number;
  /** Exits by reason (`exit_rule`, `archived`, ...); completions are not exits. */
  exited: Record<string, number>;
  /** Instances active now (not windowed). */
  active: number;
  steps: StepStats[];
}

export interface StatsQuery {
  journeyId: string;
  /** Absent: the active version (the shadow version when `shadow`). */
  version?: number;
  /** A window in ms back from now (`--since 24h`); absent: all time. */
  sinceMs?: number;
  shadow?: boolean;
}
