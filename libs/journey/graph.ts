// A journey document as a graph of nodes and edges: what the console draws and the admin API
// serves as a version's `graph`. Pure: the layout (positions) is the drawer's business.
//
// Nodes: the trigger (`@trigger`), every step by its id, `@end` when some path completes
// without an exit step, and `@exit-rules` (no edges) when the journey has exit rules. Edges
// follow the compiled resolution: an omitted `next` goes to the following step in document
// order, past the last step to `@end`. A hold's restart branch is an edge back to the hold.
import { formatDuration } from './duration.js';
import type { JourneyDocument, Step, StepType } from './types.js';

export const TRIGGER_NODE = '@trigger';
export const END_NODE = '@end';
export const EXIT_RULES_NODE = '@exit-rules';

export type GraphNodeKind = StepType | 'trigger' | 'end' | 'exit_rules';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  /** The step's name, or its id. */
  label: string;
  /** One line on what the node does: `hold up to 2d`, `send to crm, ads`, `on Order Completed`. */
  detail: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** What the edge is: a branch id (and its event or weight), `timeout`, `else`, or ''. */
  label: string;
  /** The key of this edge in the step's stats `branches` (hold branch id or `timeout`, split
   * branch id or `else`); absent for a step's single way on. */
  branch?: string;
}

export interface JourneyGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function stepDetail(step: Step): string {
  switch (step.type) {
    case 'hold_until': {
      const events = [...new Set(step.branches.map((b) => b.event))].join(', ');
      return `hold for ${events} up to ${formatDuration(step.timeout.after)}`;
    }
    case 'delay':
      return 'after' in step
        ? `wait ${formatDuration(step.after)}`
        : `wait until ${step.until}` +
            (step.offset ? ` ${step.offset > 0 ? '+' : '-'} ${formatDuration(Math.abs(step.offset))}` : '');
    case 'data_split':
      return `split on data, ${step.branches.length + 1} ways`;
    case 'random_split':
      return `random split, ${step.branches.length} ways` + (step.sticky ? ', sticky' : '');
    case 'send':
      return `send ${step.event} to ${step.to.join(', ')}`;
    case 'exit':
      return 'exit';
  }
}

/** The document's steps and transitions as nodes and edges. */
export function journeyGraph(doc: JourneyDocument): JourneyGraph {
  const nodes: GraphNode[] = [
    { id: TRIGGER_NODE, kind: 'trigger', label: doc.trigger.event, detail: `on ${doc.trigger.event}` },
  ];
  const edges: GraphEdge[] = [];
  let reachesEnd = false;
  const target = (next: string | undefined, following: string | undefined): string => {
    const to = next ?? following;
    if (to === undefined) reachesEnd = true;
    return to ?? END_NODE;
  };

  edges.push({ from: TRIGGER_NODE, to: target(undefined, doc.steps[0]?.id), label: '' });
  doc.steps.forEach((step, i) => {
    const following = doc.steps[i + 1]?.id;
    nodes.push({ id: step.id, kind: step.type, label: step.name ?? step.id, detail: stepDetail(step) });
    switch (step.type) {
      case 'send':
      case 'delay':
        edges.push({ from: step.id, to: target(step.next, following), label: '' });
        break;
      case 'hold_until':
        for (const b of step.branches) {
          const label = `${b.id}: ${b.event}`;
          if (b.restart)
            edges.push({ from: step.id, to: step.id, label: `${label} (restart)`, branch: b.id });
          else edges.push({ from: step.id, to: target(b.next, following), label, branch: b.id });
        }
        edges.push({
          from: step.id,
          to: target(step.timeout.next, following),
          label: `timeout ${formatDuration(step.timeout.after)}`,
          branch: 'timeout',
        });
        break;
      case 'data_split':
        for (const b of step.branches) {
          edges.push({ from: step.id, to: target(b.next, following), label: b.id, branch: b.id });
        }
        edges.push({ from: step.id, to: target(step.else, following), label: 'else', branch: 'else' });
        break;
      case 'random_split':
        // The weights add up to 100 (validation).
        for (const b of step.branches) {
          edges.push({
            from: step.id,
            to: target(b.next, following),
            label: `${b.id} (${b.weight}%)`,
            branch: b.id,
          });
        }
        break;
      case 'exit':
        break;
    }
  });
  if (reachesEnd)
    nodes.push({ id: END_NODE, kind: 'end', label: 'completed', detail: 'the instance completes' });
  if (doc.exit.rules.length > 0) {
    const events = doc.exit.rules.map((r) => r.event).join(', ');
    nodes.push({
      id: EXIT_RULES_NODE,
      kind: 'exit_rules',
      label: 'exit rules',
      detail: `exit on ${events}` + (doc.exit.send ? ` (send to ${doc.exit.send.to.join(', ')})` : ''),
    });
  }
  return { nodes, edges };
}
