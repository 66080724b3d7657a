// The Segment Spec as zod schemas: the common fields plus each of the six types' own fields
// (segment-docs src/connections/spec/*.md). They check shapes and coerce what Segment's own
// libraries send (numeric ids); cross-field rules (identity, the type itself) live in normalize.ts.
import { z } from 'zod';
import type { EventType } from '../journey/index.js';
import { isPlainObject } from './plain.js';
import { isInTimestampWindow, parseSpecTimestamp, TIMESTAMP_WINDOW } from './timestamp.js';

const TYPES: Record<EventType, true> = {
  track: true,
  identify: true,
  page: true,
  screen: true,
  group: true,
  alias: true,
};

/** The six Spec types, in the Spec's order. */
export const EVENT_TYPES = Object.keys(TYPES) as readonly EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(TYPES, value);
}

/** Segment dedupes on messageId and stores at most 100 characters of it. */
export const MESSAGE_ID_MAX_LENGTH = 100;

/** The four Spec timestamps. Only `receivedAt` is ignored: Cairn's own receive time replaces it. */
export const TIMESTAMP_FIELDS = ['timestamp', 'originalTimestamp', 'sentAt', 'receivedAt'] as const;

/** userId / anonymousId: Segment's libraries send numbers as they are, Segment stores strings.
 * null and '' mean "not set" (analytics.js sends `userId: null` for anonymous visitors). */
const identity = z
  .union([z.string(), z.number()], { error: 'must be a string or a number' })
  .nullish()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : String(v)));

/** A type's required id (groupId, previousId): a non-empty string or a number, as a string. */
function requiredId(requiredOn: string) {
  return z
    .union([z.string(), z.number()], {
      error: (issue) =>
        issue.input === undefined || issue.input === null
          ? `is required on ${requiredOn}`
          : 'must be a non-empty string or a number',
    })
    .refine((v) => v !== '', { error: `is required on ${requiredOn}` })
    .transform(String);
}

const timestamp = z
  .string({ error: 'must be an ISO-8601 date-time string' })
  .transform((text, ctx) => {
    const ms = parseSpecTimestamp(text);
    if (ms !== undefined && isInTimestampWindow(ms)) return ms;
    if (ms !== undefined) {
      ctx.issues.push({
        code: 'custom',
        input: text,
        message: `must be within ${TIMESTAMP_WINDOW.text}`,
        params: { outOfRange: true },
      });
      return z.NEVER;
    }
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00.000Z',
    });
    return z.NEVER;
  })
  .nullish();

/** Free-form objects are checked, not copied: they reach the normalized event as parsed. */
const object = z.custom<Record<string, unknown>>(isPlainObject, { error: 'must be a JSON object' });

const context = object.refine((c) => c.traits === undefined || c.traits === null || isPlainObject(c.traits), {
  error: 'must be a JSON object',
  path: ['traits'],
});

const optionalText = z.string({ error: 'must be a string' }).nullish();

const common = {
  userId: identity,
  anonymousId: identity,
  messageId: z
    .string({ error: 'must be a string' })
    .max(MESSAGE_ID_MAX_LENGTH, { error: `must be at most ${MESSAGE_ID_MAX_LENGTH} characters` })
    .nullish(),
  timestamp,
  originalTimestamp: timestamp,
  sentAt: timestamp,
  receivedAt: timestamp,
  context: context.nullish(),
  integrations: object.nullish(),
  properties: object.nullish(),
  traits: object.nullish(),
  // Authentication is the transport's business; a write key in the body is accepted and dropped.
  writeKey: z.unknown().optional(),
};

export const trackSchema = z.object({
  type: z.literal('track'),
  ...common,
  event: z
    .string({
      error: (issue) => (issue.input == null ? 'is required on a track event' : 'must be a string'),
    })
    .regex(/\S/, { error: 'is required on a track event and must not be blank' }),
});
export const identifySchema = z.object({ type: z.literal('identify'), ...common });
export const pageSchema = z.object({
  type: z.literal('page'),
  ...common,
  name: optionalText,
  category: optionalText,
});
export const screenSchema = z.object({ type: z.literal('screen'), ...common, name: optionalText });
export const groupSchema = z.object({
  type: z.literal('group'),
  ...common,
  groupId: requiredId('a group event'),
});
export const aliasSchema = z.object({
  type: z.literal('alias'),
  ...common,
  previousId: requiredId('an alias event'),
});

/** Any Spec event, by `type`. Unknown top-level keys (`version`, `channel`, ...) are dropped. */
export const specEventSchema = z.discriminatedUnion('type', [
  trackSchema,
  identifySchema,
  pageSchema,
  screenSchema,
  groupSchema,
  aliasSchema,
]);

/** A Spec event after the schema: ids as strings, timestamps as epoch ms, `null` for explicit nulls. */
export type SpecEvent = z.output<typeof specEventSchema>;
