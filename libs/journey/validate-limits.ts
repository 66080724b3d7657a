// Every configurable limit (types.ts Limits; Segment's values by default).
import type { Draft } from './draft.js';
import { formatDuration } from './duration.js';
import { JourneyCodes } from './errors.js';
import { error, type PathSegment } from './issues.js';
import { DESTINATION_ID_MAX_LENGTH } from './limits.js';
import type { Limits, SendSpec, Step, ValidationIssue } from './types.js';

function nameLength(
  issues: ValidationIssue[],
  path: PathSegment[],
  what: string,
  value: string,
  max: number,
) {
  if (value.length > max) {
    issues.push(
      error(
        JourneyCodes.NAME_TOO_LONG,
        path,
        `the ${what} is ${value.length} characters long; the limit is ${max}`,
        `shorten it to at most ${max} characters`,
      ),
    );
  }
}

function duration(
  issues: ValidationIssue[],
  path: PathSegment[],
  ms: number,
  limits: Limits,
  signed = false,
) {
  const value = signed ? Math.abs(ms) : ms;
  if (signed ? value <= limits.maxDuration : value >= limits.minDuration && value <= limits.maxDuration)
    return;
  const range = signed
    ? `at most ${formatDuration(limits.maxDuration)} either way`
    : `between ${formatDuration(limits.minDuration)} and ${formatDuration(limits.maxDuration)}`;
  issues.push(
    error(
      JourneyCodes.DURATION_OUT_OF_RANGE,
      path,
      `${formatDuration(ms)} is out of range: a duration here must be ${range}`,
      `use a duration ${range}`,
    ),
  );
}

function send(issues: ValidationIssue[], path: PathSegment[], spec: SendSpec, limits: Limits) {
  nameLength(issues, [...path, 'event'], 'send event name', spec.event, limits.maxNameLength);
  if (spec.to.length < 1 || spec.to.length > limits.maxDestinationsPerSend) {
    issues.push(
      error(
        JourneyCodes.DESTINATION_COUNT,
        [...path, 'to'],
        `a send goes to 1 to ${limits.maxDestinationsPerSend} destinations, this one lists ${spec.to.length}`,
        spec.to.length < 1
          ? 'add a destination id, e.g. to: [crm-webhook]'
          : 'split the send into several steps',
      ),
    );
  }
  for (const [i, id] of spec.to.entries()) {
    // A destination id is at most 64 characters; a longer reference would make keys (the
    // destination's, the delivery's `sent` record) too long for a request subject.
    if (id.length > DESTINATION_ID_MAX_LENGTH) {
      issues.push(
        error(
          JourneyCodes.BAD_ID,
          [...path, 'to', i],
          `the destination id is ${id.length} characters long; a destination id has at most ${DESTINATION_ID_MAX_LENGTH}`,
          'use the id of a destination stored with `cairn destination put`',
        ),
      );
    }
  }
  const mappings = Object.keys(spec.payload ?? {}).length;
  if (mappings > limits.maxPayloadMappings) {
    issues.push(
      error(
        JourneyCodes.TOO_MANY_PAYLOAD_MAPPINGS,
        [...path, 'payload'],
        `the payload maps ${mappings} keys; the limit is ${limits.maxPayloadMappings}`,
        'map fewer keys, or send the default payload which carries the whole journey context',
      ),
    );
  }
}

const BRANCH_LIMIT: Partial<Record<Step['type'], keyof Limits>> = {
  hold_until: 'maxHoldBranches',
  data_split: 'maxDataSplitBranches',
  random_split: 'maxRandomSplitBranches',
};

function step(issues: ValidationIssue[], s: Step, i: number, limits: Limits) {
  const at = (...rest: PathSegment[]): PathSegment[] => ['steps', i, ...rest];
  if (s.name !== undefined) nameLength(issues, at('name'), 'step name', s.name, limits.maxNameLength);
  const limitKey = BRANCH_LIMIT[s.type];
  if (limitKey && 'branches' in s && s.branches.length > limits[limitKey]) {
    issues.push(
      error(
        JourneyCodes.TOO_MANY_BRANCHES,
        at('branches'),
        `a ${s.type} step has at most ${limits[limitKey]} branches, this one has ${s.branches.length}`,
        'merge branches, or chain a second step after this one',
      ),
    );
  }
  if (s.type === 'hold_until') {
    if (s.lookback !== undefined) duration(issues, at('lookback'), s.lookback, limits);
    duration(issues, at('timeout', 'after'), s.timeout.after, limits);
  } else if (s.type === 'delay') {
    if ('after' in s) duration(issues, at('after'), s.after, limits);
    else duration(issues, at('offset'), s.offset, limits, true);
  } else if (s.type === 'send') send(issues, at(), s, limits);
}

export function checkLimits(draft: Draft, limits: Limits): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (draft.name !== undefined)
    nameLength(issues, ['name'], 'journey name', draft.name, limits.maxNameLength);
  if (draft.steps.length > limits.maxSteps) {
    issues.push(
      error(
        JourneyCodes.TOO_MANY_STEPS,
        ['steps'],
        `the journey has ${draft.steps.length} steps; the limit is ${limits.maxSteps}`,
        'split it into several journeys, or merge steps',
      ),
    );
  }
  draft.steps.forEach((s, i) => s && step(issues, s, i, limits));
  if (draft.exit) {
    if (draft.exit.rules.length > limits.maxExitRules) {
      issues.push(
        error(
          JourneyCodes.TOO_MANY_EXIT_RULES,
          draft.exitIsList ? ['exit'] : ['exit', 'rules'],
          `the journey has ${draft.exit.rules.length} exit rules; the limit is ${limits.maxExitRules}`,
          'combine rules on the same event, e.g. with where: { properties.reason: { in: [a, b] } }',
        ),
      );
    }
    if (draft.exit.send) send(issues, ['exit', 'send'], draft.exit.send, limits);
  }
  if (draft.entry?.mode === 'every_time' && draft.entry.uniqueBy.length > limits.maxUniqueByNameLength) {
    issues.push(
      error(
        JourneyCodes.UNIQUE_BY_TOO_LONG,
        ['entry', 'uniqueBy'],
        `uniqueBy is ${draft.entry.uniqueBy.length} characters long; the limit is ${limits.maxUniqueByNameLength}`,
        'use a shorter property path',
      ),
    );
  }
  return issues;
}
