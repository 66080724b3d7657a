// Entries, step transitions and exits per journey, counted from the journal records of a committed
// decision (once per decision: a re-published one is not counted again). Label sets stay bounded:
// journey ids are the published journeys', step ids those of each journey (at most its step
// limit), exit reasons one of EXIT_REASONS. Label handles are resolved once per label set.
import type { JournalRecord } from '../../libs/journey/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';

/** The `reason` label of `cairn_journey_exits_total`, from the instance's end reason. */
export const EXIT_REASONS = [
  'completed',
  'exit_rule',
  'archived',
  'step_loop',
  'unknown_step',
  'other',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** How an ended instance's journal record reads as an exit reason. */
export function exitReasonOf(record: Pick<JournalRecord, 'type' | 'reason'>): ExitReason {
  if (record.type === 'completed') return 'completed';
  switch (record.reason) {
    case 'exit_rule':
      return 'exit_rule';
    case 'version_archived':
      return 'archived';
    case 'step_loop':
      return 'step_loop';
    case 'unknown_step':
      return 'unknown_step';
    default:
      return 'other';
  }
}

type JourneyCounters = Pick<Metrics, 'journeyEntries' | 'journeyTransitions' | 'journeyExits'>;
interface Inc {
  inc(): void;
}

class JourneyHandles {
  private readonly handles = new Map<string, Inc>();

  constructor(private readonly m: JourneyCounters) {}

  count(record: JournalRecord): void {
    const journey = record.journeyId;
    switch (record.type) {
      case 'entered':
        this.handle(`e\0${journey}`, () => this.m.journeyEntries.labels(journey)).inc();
        return;
      case 'step':
        // A step record with a reason annotates a step already entered (lookback, a delay
        // whose instant is missing or past): no transition.
        if (record.stepId === undefined || record.reason !== undefined) return;
        this.handle(`t\0${journey}\0${record.stepId}`, () =>
          this.m.journeyTransitions.labels(journey, record.stepId!),
        ).inc();
        return;
      case 'completed':
      case 'exited': {
        const reason = exitReasonOf(record);
        this.handle(`x\0${journey}\0${reason}`, () => this.m.journeyExits.labels(journey, reason)).inc();
        return;
      }
      default:
        return;
    }
  }

  private handle(key: string, make: () => Inc): Inc {
    let h = this.handles.get(key);
    if (!h) {
      h = make();
      this.handles.set(key, h);
    }
    return h;
  }
}

const byMetrics = new WeakMap<JourneyCounters, JourneyHandles>();

/** Counts one journal record of a committed decision in the journey counters. */
export function countJourneyRecord(metrics: JourneyCounters, record: JournalRecord): void {
  let h = byMetrics.get(metrics);
  if (!h) {
    h = new JourneyHandles(metrics);
    byMetrics.set(metrics, h);
  }
  h.count(record);
}
