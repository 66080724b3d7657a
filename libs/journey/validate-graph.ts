// The step graph: unique ids, references that resolve, forward-only `next` (no cycles except a
// hold's restart), and every step reachable from the first.
import { isPlainObject } from './conditions.js';
import type { Draft } from './draft.js';
import { stepBranches } from './draft.js';
import { JourneyCodes } from './errors.js';
import { error, type PathSegment } from './issues.js';
import { closest } from './suggest.js';
import type { Step, ValidationIssue } from './types.js';

interface Edge {
  path: PathSegment[];
  /** Explicit target id, or undefined for "the following step". */
  target: string | undefined;
}

/** Where a step can go next; `target` undefined means the following step (or completion). */
export function stepEdges(step: Step, at: number): Edge[] {
  const p = (...rest: PathSegment[]): PathSegment[] => ['steps', at, ...rest];
  switch (step.type) {
    case 'hold_until':
      return [
        // A restart branch goes back to the start of its own hold: the one cycle allowed.
        ...step.branches.flatMap((b, j) =>
          b.restart ? [] : [{ path: p('branches', j, 'next'), target: b.next }],
        ),
        { path: p('timeout', 'next'), target: step.timeout.next },
      ];
    case 'data_split':
      return [
        ...step.branches.map((b, j) => ({ path: p('branches', j, 'next'), target: b.next })),
        { path: p('else'), target: step.else },
      ];
    case 'random_split':
      return step.branches.map((b, j) => ({ path: p('branches', j, 'next'), target: b.next }));
    case 'exit':
      return [];
    default:
      return [{ path: p('next'), target: step.next }];
  }
}

/**
 * The references of a step that failed its schema (a typo'd key, a bad value), read from what
 * was written: each `next`, `else`, `timeout.next` and branch `next` that is a string, so that
 * an unknown step there is reported together with the typo.
 */
export function looseEdges(raw: unknown, at: number): Edge[] {
  if (!isPlainObject(raw)) return [];
  const edges: Edge[] = [];
  const add = (target: unknown, ...path: PathSegment[]): void => {
    if (typeof target === 'string') edges.push({ path: ['steps', at, ...path], target });
  };
  add(raw['next'], 'next');
  add(raw['else'], 'else');
  if (isPlainObject(raw['timeout'])) add(raw['timeout']['next'], 'timeout', 'next');
  if (Array.isArray(raw['branches'])) {
    raw['branches'].forEach((b: unknown, j: number) => {
      if (isPlainObject(b) && b['restart'] !== true) add(b['next'], 'branches', j, 'next');
    });
  }
  return edges;
}

export function checkGraph(draft: Draft): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const firstIndex = new Map<string, number>();
  draft.stepIds.forEach((id, i) => {
    if (id === undefined) return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, i);
    else {
      issues.push(
        error(
          JourneyCodes.DUPLICATE_STEP_ID,
          ['steps', i, 'id'],
          `step id '${id}' is already used by steps[${first}]`,
          'give every step its own id',
        ),
      );
    }
  });
  const ids = [...firstIndex.keys()];

  let unresolved = false;
  draft.steps.forEach((step, i) => {
    for (const edge of step ? stepEdges(step, i) : looseEdges(draft.rawSteps[i], i)) {
      if (edge.target === undefined) continue;
      const to = firstIndex.get(edge.target);
      if (to === undefined) {
        unresolved = true;
        const guess = closest(edge.target, ids);
        issues.push(
          error(
            JourneyCodes.UNKNOWN_STEP,
            edge.path,
            `no step has the id '${edge.target}'`,
            (guess ? `did you mean '${guess}'? ` : '') + `step ids: ${ids.join(', ') || '(none)'}`,
          ),
        );
      } else if (to <= i) {
        issues.push(
          error(
            JourneyCodes.CYCLE,
            edge.path,
            to === i
              ? `'${edge.target}' points to its own step: cycles are refused`
              : `'${edge.target}' is an earlier step (steps[${to}]): cycles are refused`,
            'point next to a later step; to wait again for an event, use a hold branch with restart: true',
          ),
        );
      }
    }
  });

  const seenBranches = new Map<string, string>();
  draft.steps.forEach((step, i) => {
    if (!step) return;
    stepBranches(step).forEach((branch, j) => {
      const owner = seenBranches.get(branch.id);
      if (owner !== undefined) {
        issues.push(
          error(
            JourneyCodes.DUPLICATE_BRANCH_ID,
            ['steps', i, 'branches', j, 'id'],
            `branch id '${branch.id}' is already used in step '${owner}'`,
            'branch ids name context aliases (<event> - <branch>): make each unique across the journey',
          ),
        );
      } else seenBranches.set(branch.id, step.id);
    });
  });

  // Reachability needs the whole graph; with unknown or duplicate ids it would only echo them.
  if (draft.stepsComplete && !unresolved && ids.length === draft.steps.length && draft.steps.length > 0) {
    const steps = draft.steps as Step[];
    const reached = new Set<number>([0]);
    const queue = [0];
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const step = steps[i] as Step;
      for (const edge of stepEdges(step, i)) {
        const to = edge.target === undefined ? i + 1 : (firstIndex.get(edge.target) as number);
        if (to < steps.length && !reached.has(to)) {
          reached.add(to);
          queue.push(to);
        }
      }
    }
    steps.forEach((step, i) => {
      if (!reached.has(i)) {
        issues.push(
          error(
            JourneyCodes.UNREACHABLE_STEP,
            ['steps', i],
            `step '${step.id}' can never be reached`,
            'point a next (or a branch, else or timeout) of an earlier step at it, or remove it',
          ),
        );
      }
    });
  }
  return issues;
}
