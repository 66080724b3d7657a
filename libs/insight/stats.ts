// Counts -> JourneyStats: the steps of a version in its document's order, the counts of a window
// beside each, and what is true now (instances active, waiting per step) from the all-time counts.
import { EXIT_SEND_STEP_ID, type JourneyDocument, type Step, type StepType } from '../journey/index.js';
import {
  emptyCounters,
  emptyVersionCounters,
  windowCounters,
  type Counters,
  type VersionCounters,
} from './counters.js';
import type { JourneyStats, StepStats } from './types.js';

export interface StatsOptions {
  journeyId: string;
  version: number;
  shadow: boolean;
  /** The version's document: the steps' order and types. */
  doc: JourneyDocument;
  /** Count from this instant (rounded down to its hour, or its day beyond 47 hours back); absent: all time. */
  since?: number;
  /** The end of the window (epoch ms): the read time. */
  until: number;
}

const WAITS: ReadonlySet<StepType> = new Set(['hold_until', 'delay']);

const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);

/** A branching step's ways out, in the document's order (`timeout` and `else` last). */
function waysOf(step: Step | undefined): string[] {
  switch (step?.type) {
    case 'hold_until':
      return [...step.branches.map((b) => b.id), 'timeout'];
    case 'data_split':
      return [...step.branches.map((b) => b.id), 'else'];
    case 'random_split':
      return step.branches.map((b) => b.id);
    default:
      return [];
  }
}

/** `counted` with `keys` first, in that order (`zero()` where nothing was counted), then the rest. */
function inOrder<T>(keys: readonly string[], counted: Record<string, T>, zero: () => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of keys) out[k] = structuredClone(counted[k] ?? zero());
  for (const [k, v] of Object.entries(counted)) if (!(k in out)) out[k] = structuredClone(v);
  return out;
}

/**
 * The stats of one version from its counters (undefined: nothing counted yet). Steps the
 * document does not name but the journal does (the exit send, `EXIT`) come after its steps.
 */
export function journeyStatsOf(counters: VersionCounters | undefined, o: StatsOptions): JourneyStats {
  const total = counters?.total ?? emptyCounters();
  let counted: Counters = total;
  let since: number | null = null;
  if (o.since !== undefined) {
    const w = windowCounters(
      counters ?? emptyVersionCounters(o.journeyId, o.version, o.shadow),
      o.since,
      o.until,
    );
    counted = w.counters;
    since = w.since;
  }
  const defs = new Map<string, Step>(o.doc.steps.map((s) => [s.id, s]));
  const types = new Map<string, StepType>(o.doc.steps.map((s) => [s.id, s.type]));
  const ids = [...types.keys()];
  for (const id of Object.keys(total.steps)) if (!types.has(id)) ids.push(id);
  const steps = ids.map((stepId): StepStats => {
    const type: StepType = types.get(stepId) ?? (stepId === EXIT_SEND_STEP_ID ? 'send' : 'exit');
    const c = counted.steps[stepId];
    const all = total.steps[stepId];
    const step: StepStats = {
      stepId,
      type,
      entered: c?.entered ?? 0,
      current: WAITS.has(type) && all ? Math.max(0, all.waiting - all.left) : 0,
    };
    const def = defs.get(stepId);
    if (type === 'hold_until' || type === 'data_split' || type === 'random_split') {
      step.branches = inOrder(waysOf(def), c?.branches ?? {}, () => 0);
    }
    if (type === 'send') {
      const to =
        def?.type === 'send' ? def.to : stepId === EXIT_SEND_STEP_ID ? (o.doc.exit.send?.to ?? []) : [];
      step.sends = inOrder(to, c?.sends ?? {}, () => ({ sent: 0, failed: 0 }));
    }
    return step;
  });
  return {
    journeyId: o.journeyId,
    version: o.version,
    shadow: o.shadow,
    window: { since, until: o.until },
    entered: counted.entered,
    refused: { ...counted.refused },
    completed: counted.completed,
    exited: { ...counted.exited },
    active: Math.max(0, total.entered - total.completed - sum(total.exited)),
    steps,
  };
}
