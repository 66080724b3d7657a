// The zod schema of a journey document as written (YAML or JSON). Parsing normalizes it into
// types.ts' JourneyDocument: durations in milliseconds, `where` as condition lists, defaults
// filled, `exit` as `{ rules, send }`, event examples as the list of paths they carry.
// Shape only: limits, references and cross-step rules are checked in validate-*.ts.
import * as z from 'zod';
import { isPlainObject, parseWhere } from './conditions.js';
import { DURATION_HINT, tryParseDuration } from './duration.js';
import { JourneyCodes } from './errors.js';
import type { PathSegment } from './issues.js';
import type {
  DataSplitStep,
  DelayStep,
  Entry,
  EventDeclaration,
  ExitStep,
  HoldStep,
  RandomSplitStep,
  SendSpec,
  SendStep,
  Step,
} from './types.js';

/** Params of a custom zod issue that already carries its Cairn code and hint. */
export interface CairnIssueParams {
  cairn: { code: string; hint: string };
}

type Ctx = { issues: z.core.$ZodRawIssue[]; value: unknown };

function report(ctx: Ctx, code: string, message: string, hint: string, path: PathSegment[] = []): void {
  const params: CairnIssueParams = { cairn: { code, hint } };
  ctx.issues.push({ code: 'custom', message, input: ctx.value, path, params });
}

export const JOURNEY_ID = /^[a-z0-9-]{1,64}$/;
export const STEP_ID = /^[a-z0-9_-]{1,64}$/;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 64);

function idSchema(kind: string, pattern: RegExp, allowed: string) {
  return z.string().superRefine((value, ctx) => {
    if (pattern.test(value)) return;
    const suggestion = slug(value);
    report(
      ctx,
      JourneyCodes.BAD_ID,
      `${JSON.stringify(value)} is not a valid ${kind} id`,
      `use 1 to 64 characters among ${allowed}` + (suggestion ? `, e.g. '${suggestion}'` : ''),
    );
  });
}

export const journeyIdSchema = idSchema('journey', JOURNEY_ID, "a-z, 0-9 and '-'");
const stepIdSchema = idSchema('step', STEP_ID, "a-z, 0-9, '-' and '_'");
const branchIdSchema = idSchema('branch', STEP_ID, "a-z, 0-9, '-' and '_'");

export const textSchema = z.string().min(1);
/** A reference to a step id (resolved by the graph checks). */
const refSchema = z.string().min(1);

/** A dotted path such as `properties.cart_id`. */
export const pathSchema = z.string().superRefine((value, ctx) => {
  if (value !== '' && value.split('.').every((s) => s.trim() !== '')) return;
  report(
    ctx,
    JourneyCodes.BAD_PATH,
    `${JSON.stringify(value)} is not a dotted path`,
    'write property names joined by dots, e.g. properties.cart_id',
  );
});

/** `30s`, `5m`, `2h`, `7d`, `1w` or a number of seconds -> milliseconds. */
export const durationSchema = z
  .custom<string | number>((v) => typeof v === 'string' || typeof v === 'number', {
    error: 'expected a duration such as 30s, 5m, 2h or 7d',
  })
  .transform((value, ctx) => {
    const ms = tryParseDuration(value);
    if (ms === undefined) {
      report(ctx, JourneyCodes.BAD_DURATION, `${JSON.stringify(value)} is not a duration`, DURATION_HINT);
      return z.NEVER;
    }
    return ms;
  });

/** `{ path: value | { op: value } }` -> Condition[] (AND). */
export const whereSchema = z.record(z.string(), z.unknown()).transform((where, ctx) => {
  const { conditions, problems } = parseWhere(where);
  for (const key of Object.keys(where)) {
    if (key === '' || key.split('.').some((s) => s.trim() === '')) {
      report(
        ctx,
        JourneyCodes.BAD_PATH,
        `${JSON.stringify(key)} is not a dotted path`,
        'write property names joined by dots, e.g. properties.total',
        [key],
      );
    }
  }
  for (const p of problems) report(ctx, p.code, p.message, p.hint, p.at);
  return conditions;
});

export const triggerSchema = z.strictObject({
  event: textSchema,
  where: whereSchema.default([]),
  audience: textSchema.optional(),
});

export const entrySchema = z
  .strictObject({
    mode: z.enum(['every_time', 'once']).default('every_time'),
    uniqueBy: pathSchema.optional(),
  })
  .transform((entry, ctx): Entry => {
    if (entry.mode === 'once') {
      if (entry.uniqueBy !== undefined) {
        report(
          ctx,
          JourneyCodes.BAD_VALUE,
          'uniqueBy applies only to mode every_time',
          'remove uniqueBy, or set mode: every_time to run one instance per value',
          ['uniqueBy'],
        );
      }
      return { mode: 'once' };
    }
    if (entry.uniqueBy === undefined) {
      report(
        ctx,
        JourneyCodes.MISSING_FIELD,
        'uniqueBy is required when entry mode is every_time (the default)',
        'name the event property that identifies one instance, e.g. uniqueBy: properties.cart_id, or set mode: once',
        ['uniqueBy'],
      );
      return z.NEVER;
    }
    return { mode: 'every_time', uniqueBy: entry.uniqueBy };
  });

const sendFields = {
  to: z.array(textSchema),
  event: textSchema.optional(),
  payload: z.record(textSchema, pathSchema).optional(),
  traits: z.array(textSchema).default([]),
};

export const EXIT_SEND_DEFAULT_EVENT = 'Journey Exited';

export const exitRuleSchema = z.strictObject({
  event: textSchema,
  where: whereSchema.default([]),
  sameKey: z.boolean().default(false),
});

/** The object form of `exit` (the list form is `{ rules: <list> }`). */
export const exitSchema = z.strictObject({
  rules: z.array(exitRuleSchema).default([]),
  send: z
    .strictObject(sendFields)
    .transform((s): SendSpec => ({ ...s, event: s.event ?? EXIT_SEND_DEFAULT_EVENT }))
    .optional(),
});

const base = { id: stepIdSchema, name: textSchema.optional() };

export const holdStepSchema = z.strictObject({
  type: z.literal('hold_until'),
  ...base,
  lookback: durationSchema.optional(),
  branches: z
    .array(
      z.strictObject({
        id: branchIdSchema,
        event: textSchema,
        where: whereSchema.default([]),
        restart: z.boolean().default(false),
        next: refSchema.optional(),
      }),
    )
    .min(1),
  timeout: z.strictObject({ after: durationSchema, next: refSchema.optional() }),
}) satisfies z.ZodType<HoldStep>;

export const delayStepSchema = z
  .strictObject({
    type: z.literal('delay'),
    ...base,
    after: durationSchema.optional(),
    until: pathSchema.optional(),
    offset: durationSchema.optional(),
    next: refSchema.optional(),
  })
  .transform((s, ctx): DelayStep => {
    const { after, until, offset, ...rest } = s;
    if ((after === undefined) === (until === undefined)) {
      report(
        ctx,
        JourneyCodes.DELAY_AFTER_OR_UNTIL,
        after === undefined ? 'a delay needs after or until' : 'a delay takes after or until, not both',
        'write after: 1d to wait a fixed time, or until: entry.properties.appointment_at (with an optional offset: -1h)',
      );
      return z.NEVER;
    }
    if (until !== undefined) return { ...rest, until, offset: offset ?? 0 };
    if (offset !== undefined) {
      report(
        ctx,
        JourneyCodes.DELAY_AFTER_OR_UNTIL,
        'offset applies only to a delay until a context timestamp',
        'remove offset, or change after into until: <context path>',
        ['offset'],
      );
      return z.NEVER;
    }
    return { ...rest, after: after as number };
  });

export const dataSplitStepSchema = z.strictObject({
  type: z.literal('data_split'),
  ...base,
  branches: z
    .array(z.strictObject({ id: branchIdSchema, where: whereSchema, next: refSchema.optional() }))
    .min(1),
  else: refSchema.optional(),
}) satisfies z.ZodType<DataSplitStep>;

export const randomSplitStepSchema = z.strictObject({
  type: z.literal('random_split'),
  ...base,
  sticky: z.boolean().default(false),
  branches: z
    .array(z.strictObject({ id: branchIdSchema, weight: z.number(), next: refSchema.optional() }))
    .min(1),
}) satisfies z.ZodType<RandomSplitStep>;

export const sendStepSchema = z
  .strictObject({ type: z.literal('send'), ...base, ...sendFields, next: refSchema.optional() })
  .transform((s): SendStep => ({ ...s, event: s.event ?? s.name ?? s.id }));

export const exitStepSchema = z.strictObject({
  type: z.literal('exit'),
  ...base,
}) satisfies z.ZodType<ExitStep>;

/** The schema of each step type, by `type`. */
export const STEP_SCHEMAS = {
  hold_until: holdStepSchema,
  delay: delayStepSchema,
  data_split: dataSplitStepSchema,
  random_split: randomSplitStepSchema,
  send: sendStepSchema,
  exit: exitStepSchema,
} as const satisfies Record<Step['type'], z.ZodType<Step>>;

export const STEP_TYPES = Object.keys(STEP_SCHEMAS) as Array<Step['type']>;

/** Every leaf path of an example event: `{ properties: { cart_id: 1 } }` -> `properties.cart_id`. */
export function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(child) && Object.keys(child).length > 0) out.push(...leafPaths(child, path));
    else out.push(path);
  }
  return out;
}

export const eventDeclarationSchema = z
  .strictObject({
    carries: z.array(pathSchema).optional(),
    example: z.record(z.string(), z.unknown()).optional(),
  })
  .transform((d, ctx): EventDeclaration => {
    if ((d.carries === undefined) === (d.example === undefined)) {
      report(
        ctx,
        JourneyCodes.EVENT_DECLARATION,
        'an event declaration takes carries or example, exactly one',
        'write carries: [properties.cart_id] or example: { properties: { cart_id: c-1 } }',
      );
      return z.NEVER;
    }
    return { carries: d.carries ?? leafPaths(d.example ?? {}) };
  });

export const eventsSchema = z.record(textSchema, eventDeclarationSchema);

/** Top-level sections, each parsed on its own so one bad section does not hide the others. */
export const SECTION_SCHEMAS = {
  id: journeyIdSchema,
  name: textSchema,
  description: z.string(),
  trigger: triggerSchema,
  entry: entrySchema,
  exit: exitSchema,
  steps: z.array(z.unknown()),
  events: eventsSchema,
} as const;

export const REQUIRED_SECTIONS = ['id', 'name', 'trigger'] as const;

/** A step of any type, dispatched on `type`. */
export const stepSchema = z.unknown().transform((raw, ctx): Step => {
  const type = isPlainObject(raw) ? raw.type : undefined;
  const schema = typeof type === 'string' ? STEP_SCHEMAS[type as Step['type']] : undefined;
  if (!schema) {
    report(ctx, JourneyCodes.UNKNOWN_STEP_TYPE, 'not a step', `type is one of ${STEP_TYPES.join(', ')}`);
    return z.NEVER;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: raw } as z.core.$ZodRawIssue);
  return z.NEVER;
});

/**
 * The whole document as one schema, for callers who want plain zod (e.g. a JSON-schema
 * export). validateJourney() uses the section schemas to report better, more complete issues.
 */
export const journeyDocumentSchema = z.strictObject({
  id: journeyIdSchema,
  name: textSchema,
  description: z.string().optional(),
  trigger: triggerSchema,
  entry: z.preprocess((v) => v ?? {}, entrySchema),
  exit: z.preprocess((v) => (Array.isArray(v) ? { rules: v } : (v ?? {})), exitSchema),
  steps: z.array(stepSchema).default([]),
  events: eventsSchema.optional(),
});
