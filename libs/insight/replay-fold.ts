// A journey's counts (JourneyStats, types.ts) folded from journal records one at a time: what
// `cairn replay` prints for a run of the core over past events. Pure; the caller feeds records
// as the simulator emits them and adds the instances still active at the end.
import type { Instance, JournalRecord, JourneyDocument } from '../journey/index.js';
import type { JourneyStats, StepStats } from './types.js';

export interface ReplayFoldOptions {
  /** The version counted (records of other versions are skipped); null counts every version. */
  version: number | null;
  window: { since: number | null; until: number };
  shadow?: boolean;
}

const zeros = (keys: string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, 0]));

function emptySteps(doc: JourneyDocument): StepStats[] {
  return doc.steps.map((step) => {
    const stats: StepStats = { stepId: step.id, type: step.type, entered: 0, current: 0 };
    if (step.type === 'hold_until') {
      stats.branches = zeros([...step.branches.map((b) => b.id), 'timeout']);
    } else if (step.type === 'data_split') {
      stats.branches = zeros([...step.branches.map((b) => b.id), 'else']);
    } else if (step.type === 'random_split') {
      stats.branches = zeros(step.branches.map((b) => b.id));
    } else if (step.type === 'send') {
      stats.sends = Object.fromEntries(step.to.map((d) => [d, { sent: 0, failed: 0 }]));
    }
    return stats;
  });
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Folds records into a JourneyStats as they come (`add`), then counts the open instances (`finish`). */
export class ReplayFold {
  readonly stats: JourneyStats;
  private readonly byStep = new Map<string, StepStats>();

  constructor(
    private readonly doc: JourneyDocument,
    private readonly opts: ReplayFoldOptions,
  ) {
    this.stats = {
      journeyId: doc.id,
      version: opts.version,
      shadow: opts.shadow ?? false,
      window: opts.window,
      entered: 0,
      refused: {},
      completed: 0,
      exited: {},
      active: 0,
      steps: emptySteps(doc),
    };
    for (const step of this.stats.steps) this.byStep.set(step.stepId, step);
  }

  add(record: JournalRecord): void {
    if (record.journeyId !== this.doc.id) return;
    if (this.opts.version !== null && record.version !== this.opts.version) return;
    if ((record.shadow === true) !== this.stats.shadow) return;
    const s = this.stats;
    const step = record.stepId === undefined ? undefined : this.byStep.get(record.stepId);
    switch (record.type) {
      case 'entered':
        s.entered++;
        break;
      case 'refused':
        // A refusal inside a step (a restart past its cap) is not an entry refused.
        if (record.stepId === undefined) bump(s.refused, record.reason ?? 'unknown');
        break;
      case 'completed':
        s.completed++;
        break;
      case 'exited':
        bump(s.exited, record.reason ?? 'unknown');
        break;
      case 'step':
        // One record per arrival (with the step's type); the others note how it went on.
        if (step && record.reason === undefined) step.entered++;
        break;
      case 'branch':
      case 'restarted':
        if (step?.branches) bump(step.branches, record.branchId ?? 'none');
        break;
      case 'timer.fired':
        if (step?.branches && record.reason === 'timeout') bump(step.branches, 'timeout');
        break;
      case 'sent':
      case 'would_send':
      case 'send.failed': {
        const destination = record.detail?.['destination'];
        if (!step?.sends || typeof destination !== 'string') break;
        const counts = (step.sends[destination] ??= { sent: 0, failed: 0 });
        if (record.type === 'send.failed') counts.failed++;
        else counts.sent++;
        break;
      }
      default:
        break;
    }
  }

  /** Counts the instances active at the end (and, per step, those waiting in it). */
  finish(instances: Iterable<Instance>): JourneyStats {
    for (const i of instances) {
      if (i.journeyId !== this.doc.id || i.status !== 'active') continue;
      if (this.opts.version !== null && i.version !== this.opts.version) continue;
      this.stats.active++;
      const step = i.stepId === null ? undefined : this.byStep.get(i.stepId);
      if (step && i.waitUntil !== undefined) step.current++;
    }
    return this.stats;
  }
}

/** The counts of `records` (one journey, its document `doc`) and of the instances open at the end. */
export function foldJournal(
  records: Iterable<JournalRecord>,
  doc: JourneyDocument,
  opts: ReplayFoldOptions & { instances?: Iterable<Instance> },
): JourneyStats {
  const fold = new ReplayFold(doc, opts);
  for (const record of records) fold.add(record);
  return fold.finish(opts.instances ?? []);
}
