// Rules across fields of one step or section: exclusive hold branches, random split weights,
// restart branches, and exit rules that fit the entry mode.
import { exitRulePath, type Draft } from './draft.js';
import { JourneyCodes } from './errors.js';
import { conditionsExclusive } from './exclusive.js';
import { error } from './issues.js';
import type { HoldStep, RandomSplitStep, ValidationIssue } from './types.js';

function hold(issues: ValidationIssue[], s: HoldStep, i: number) {
  s.branches.forEach((b, j) => {
    if (b.restart && b.next !== undefined) {
      issues.push(
        error(
          JourneyCodes.RESTART_WITH_NEXT,
          ['steps', i, 'branches', j, 'next'],
          `branch '${b.id}' restarts the hold, so it cannot also go to '${b.next}'`,
          'remove next (the branch goes back to the start of this hold), or remove restart: true',
        ),
      );
    }
    for (let k = 0; k < j; k++) {
      const other = s.branches[k];
      if (other && other.event === b.event && !conditionsExclusive(other.where, b.where)) {
        issues.push(
          error(
            JourneyCodes.HOLD_BRANCHES_OVERLAP,
            ['steps', i, 'branches', j],
            `branches '${other.id}' and '${b.id}' can both match one '${b.event}' event`,
            'make their where conditions exclude each other (e.g. properties.total: { gte: 100 } and { lt: 100 }), or merge them',
          ),
        );
      }
    }
  });
}

function weights(issues: ValidationIssue[], s: RandomSplitStep, i: number) {
  s.branches.forEach((b, j) => {
    if (!(b.weight > 0)) {
      issues.push(
        error(
          JourneyCodes.WEIGHT_NOT_POSITIVE,
          ['steps', i, 'branches', j, 'weight'],
          `branch '${b.id}' has weight ${b.weight}; weights are percentages above 0`,
          'give the branch a positive weight, or remove it',
        ),
      );
    }
  });
  const sum = s.branches.reduce((total, b) => total + b.weight, 0);
  if (Math.abs(sum - 100) > 1e-9) {
    issues.push(
      error(
        JourneyCodes.WEIGHTS_SUM,
        ['steps', i, 'branches'],
        `the branch weights add up to ${sum}, not 100`,
        `adjust the weights (${s.branches.map((b) => `${b.id}: ${b.weight}`).join(', ')}) so they total 100`,
      ),
    );
  }
}

export function checkRules(draft: Draft): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  draft.steps.forEach((s, i) => {
    if (s?.type === 'hold_until') hold(issues, s, i);
    else if (s?.type === 'random_split') weights(issues, s, i);
  });
  if (draft.exit) {
    if (draft.exit.send && draft.exit.rules.length === 0) {
      issues.push(
        error(
          JourneyCodes.EXIT_SEND_WITHOUT_RULES,
          ['exit', 'send'],
          'exit.send is made when an exit rule fires, and there are no exit rules',
          'add rules: [{ event: ... }] under exit, or remove send',
        ),
      );
    }
    if (draft.entry?.mode === 'once') {
      draft.exit.rules.forEach((rule, k) => {
        if (rule.sameKey) {
          issues.push(
            error(
              JourneyCodes.SAME_KEY_IN_ONCE,
              [...exitRulePath(draft, k), 'sameKey'],
              `exit rule on '${rule.event}' has sameKey: true, but a once journey has no instance key`,
              'remove sameKey, or use entry mode every_time with a uniqueBy',
            ),
          );
        }
      });
    }
  }
  return issues;
}
