// validateJourney: schema, then every cross-field rule, reporting all problems at once.
import type * as z from 'zod';
import { isPlainObject } from './conditions.js';
import type { Draft } from './draft.js';
import { JourneyCodes, JourneyError } from './errors.js';
import { error } from './issues.js';
import { resolveLimits } from './limits.js';
import { REQUIRED_SECTIONS, SECTION_SCHEMAS, STEP_SCHEMAS, STEP_TYPES } from './schema.js';
import { didYouMean } from './suggest.js';
import type { JourneyDocument, Limits, Step, ValidationIssue } from './types.js';
import { checkContext } from './validate-context.js';
import { checkGraph } from './validate-graph.js';
import { checkLimits } from './validate-limits.js';
import { checkRules } from './validate-rules.js';
import { mapZodIssues } from './zod-issues.js';

export interface ValidateOptions {
  limits?: Partial<Limits>;
}

export type ValidationResult =
  | { ok: true; journey: JourneyDocument; warnings: ValidationIssue[] }
  | { ok: false; errors: ValidationIssue[]; warnings: ValidationIssue[] };

type Section = keyof typeof SECTION_SCHEMAS;
const SECTIONS = Object.keys(SECTION_SCHEMAS) as Section[];

function parseSection<S extends z.ZodType>(
  schema: S,
  input: unknown,
  path: Array<string | number>,
  issues: ValidationIssue[],
): z.output<S> | undefined {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  issues.push(...mapZodIssues(result.error.issues, schema, input, path));
  return undefined;
}

function parseStep(raw: unknown, i: number, issues: ValidationIssue[]): Step | undefined {
  if (!isPlainObject(raw)) {
    issues.push(
      error(
        JourneyCodes.WRONG_TYPE,
        ['steps', i],
        'a step must be an object',
        'write { id: ..., type: ..., ... }',
      ),
    );
    return undefined;
  }
  const type = raw.type;
  if (type === undefined) {
    issues.push(
      error(
        JourneyCodes.MISSING_FIELD,
        ['steps', i, 'type'],
        "'type' is required",
        `type is one of ${STEP_TYPES.join(', ')}`,
      ),
    );
    return undefined;
  }
  const schema = typeof type === 'string' ? STEP_SCHEMAS[type as Step['type']] : undefined;
  if (!schema) {
    issues.push(
      error(
        JourneyCodes.UNKNOWN_STEP_TYPE,
        ['steps', i, 'type'],
        `${JSON.stringify(type)} is not a step type`,
        typeof type === 'string' ? didYouMean(type, STEP_TYPES) : `type is one of ${STEP_TYPES.join(', ')}`,
      ),
    );
    return undefined;
  }
  return parseSection(schema as z.ZodType<Step>, raw, ['steps', i], issues);
}

/** An exit issue at the author's path, and a rule's own `send:` pointed at the `{ rules, send }` form. */
function exitIssue(issue: ValidationIssue, isList: boolean): ValidationIssue {
  const path = isList ? issue.path.replace(/^exit\.rules/, 'exit') : issue.path;
  if (issue.code === JourneyCodes.UNKNOWN_KEY && /^exit(\.rules)?\[\d+\]\.send$/.test(path)) {
    return {
      ...issue,
      path,
      hint: "an exit rule has no send of its own: one send for every rule goes next to them, as exit: { rules: [{ event: ... }], send: { to: [...], event: ... } } (docs/journeys.md); a rule's keys are event, where, sameKey",
    };
  }
  return { ...issue, path };
}

function toDraft(input: Record<string, unknown>, issues: ValidationIssue[]): Draft {
  for (const key of Object.keys(input)) {
    if (!(SECTIONS as string[]).includes(key)) {
      issues.push(
        error(
          JourneyCodes.UNKNOWN_KEY,
          [key],
          `unknown key '${key}'`,
          didYouMean(key, SECTIONS, 'the known keys'),
        ),
      );
    }
  }
  for (const key of REQUIRED_SECTIONS) {
    if (input[key] === undefined) {
      issues.push(
        error(JourneyCodes.MISSING_FIELD, [key], `'${key}' is required`, `add '${key}' at the top level`),
      );
    }
  }
  const present = (key: Section) => input[key] !== undefined;
  const draft: Draft = {
    steps: [],
    stepIds: [],
    rawSteps: [],
    stepsComplete: true,
    exitIsList: Array.isArray(input.exit),
  };
  if (present('id')) draft.id = parseSection(SECTION_SCHEMAS.id, input.id, ['id'], issues);
  if (present('name')) draft.name = parseSection(SECTION_SCHEMAS.name, input.name, ['name'], issues);
  if (present('description')) {
    draft.description = parseSection(SECTION_SCHEMAS.description, input.description, ['description'], issues);
  }
  if (present('trigger'))
    draft.trigger = parseSection(SECTION_SCHEMAS.trigger, input.trigger, ['trigger'], issues);
  draft.entry = parseSection(SECTION_SCHEMAS.entry, input.entry ?? {}, ['entry'], issues);
  // `exit: [rules]` is shorthand for `exit: { rules: [...] }`; issues keep the author's paths.
  const exitIssues: ValidationIssue[] = [];
  if (draft.exitIsList) {
    draft.exit = parseSection(SECTION_SCHEMAS.exit, { rules: input.exit }, ['exit'], exitIssues);
  } else draft.exit = parseSection(SECTION_SCHEMAS.exit, input.exit ?? {}, ['exit'], exitIssues);
  issues.push(...exitIssues.map((i) => exitIssue(i, draft.exitIsList)));
  if (present('events'))
    draft.events = parseSection(SECTION_SCHEMAS.events, input.events, ['events'], issues);
  const steps = parseSection(SECTION_SCHEMAS.steps, input.steps ?? [], ['steps'], issues);
  if (!steps) draft.stepsComplete = false;
  for (const [i, raw] of (steps ?? []).entries()) {
    const step = parseStep(raw, i, issues);
    if (!step) draft.stepsComplete = false;
    draft.steps.push(step);
    draft.stepIds.push(isPlainObject(raw) && typeof raw.id === 'string' ? raw.id : undefined);
    draft.rawSteps.push(raw);
  }
  return draft;
}

/** Validates and normalizes a journey document (already parsed from YAML/JSON into plain data). */
export function validateJourney(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  const limits = resolveLimits(opts.limits);
  if (!isPlainObject(input)) {
    const got = Array.isArray(input) ? 'a list' : input === null ? 'null' : typeof input;
    return {
      ok: false,
      errors: [
        error(
          JourneyCodes.WRONG_TYPE,
          [],
          `a journey document is an object, got ${got}`,
          'start from the example in docs/journeys.md',
        ),
      ],
      warnings: [],
    };
  }
  const found: ValidationIssue[] = [];
  const draft = toDraft(input, found);
  found.push(
    ...checkGraph(draft),
    ...checkRules(draft),
    ...checkLimits(draft, limits),
    ...checkContext(draft),
  );
  const errors = found.filter((i) => i.severity === 'error');
  const warnings = found.filter((i) => i.severity === 'warning');
  if (errors.length > 0) return { ok: false, errors, warnings };
  const journey: JourneyDocument = {
    id: draft.id as string,
    name: draft.name as string,
    ...(draft.description !== undefined && { description: draft.description }),
    trigger: draft.trigger as JourneyDocument['trigger'],
    entry: draft.entry as JourneyDocument['entry'],
    exit: draft.exit as JourneyDocument['exit'],
    steps: draft.steps as Step[],
    ...(draft.events !== undefined && { events: draft.events }),
  };
  return { ok: true, journey, warnings };
}

/** validateJourney that returns the document or throws a JourneyError (CAIRN_E_JOURNEY_INVALID). */
export function assertValidJourney(input: unknown, opts: ValidateOptions = {}): JourneyDocument {
  const result = validateJourney(input, opts);
  if (result.ok) return result.journey;
  const first = result.errors[0];
  throw new JourneyError(
    `invalid journey: ${result.errors.length} error(s)${first ? `, first at ${first.path || 'document'}: ${first.message}` : ''}`,
    result.errors,
  );
}
