// The live numbers on a journey graph: each node's counts and each edge's count and conversion,
// from the JourneyStats the admin API serves. Pure (no DOM): the unit tests import it.
import type { GraphEdge, JourneyGraph } from '../../libs/journey/index.js';
import type { JourneyStats, StepStats } from '../../libs/insight/types.js';

export interface NodeCounts {
  /** Times an instance reached the node (the trigger: entries; the end: the edges into it). */
  entered: number;
  /** Waiting there now (holds and delays). */
  current: number;
  /** Share of the journey's entries that reached the node, 0..1 (null when nothing entered). */
  ofEntry: number | null;
  /** Sends: issued and refused, summed over the destinations. */
  sent?: number;
  failed?: number;
}

export interface EdgeCounts {
  /** Instances that took the edge. */
  count: number;
  /** Share of those who reached the edge's source that took it, 0..1 (null when none did). */
  conversion: number | null;
}

export interface GraphCounts {
  nodes: Record<string, NodeCounts>;
  /** By edge index in graph.edges. */
  edges: EdgeCounts[];
}

const share = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** An edge's count: its branch in the step's `branches`, or the instances that passed the step. */
function edgeCount(edge: GraphEdge, step: StepStats | undefined, stats: JourneyStats): number {
  if (edge.from === '@trigger') return stats.entered;
  if (!step) return 0;
  if (edge.branch !== undefined) return step.branches?.[edge.branch] ?? 0;
  return Math.max(0, step.entered - step.current);
}

/** Maps stats onto the graph's nodes and edges. */
export function graphCounts(graph: JourneyGraph, stats: JourneyStats): GraphCounts {
  const steps = new Map(stats.steps.map((s) => [s.stepId, s]));
  const nodes: Record<string, NodeCounts> = {};
  for (const node of graph.nodes) {
    if (node.kind === 'trigger') {
      nodes[node.id] = { entered: stats.entered, current: 0, ofEntry: share(stats.entered, stats.entered) };
      continue;
    }
    if (node.kind === 'exit_rules') {
      const byRule = stats.exited['exit_rule'] ?? 0;
      nodes[node.id] = { entered: byRule, current: 0, ofEntry: share(byRule, stats.entered) };
      continue;
    }
    const step = steps.get(node.id);
    const entered = step?.entered ?? 0;
    const counts: NodeCounts = {
      entered,
      current: step?.current ?? 0,
      ofEntry: share(entered, stats.entered),
    };
    if (step?.sends) {
      counts.sent = 0;
      counts.failed = 0;
      for (const s of Object.values(step.sends)) {
        counts.sent += s.sent;
        counts.failed += s.failed;
      }
    }
    nodes[node.id] = counts;
  }
  const edges = graph.edges.map((edge) => {
    const count = edgeCount(edge, steps.get(edge.from), stats);
    const from = nodes[edge.from]?.entered ?? 0;
    return { count, conversion: share(count, from) };
  });
  // The end of the paths: whatever its edges brought (an exit step completes instances too, so
  // the stats' `completed` is not the end node's count).
  for (const node of graph.nodes) {
    if (node.kind !== 'end') continue;
    const entered = graph.edges.reduce(
      (sum, e, i) => sum + (e.to === node.id ? (edges[i]?.count ?? 0) : 0),
      0,
    );
    nodes[node.id] = { entered, current: 0, ofEntry: share(entered, stats.entered) };
  }
  return { nodes, edges };
}

/** `42%` (or `–` when there is no denominator). */
export function percent(ratio: number | null): string {
  return ratio === null ? '–' : `${Math.round(ratio * 100)}%`;
}
