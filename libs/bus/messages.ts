// The wire messages between the services, each a versioned msgpack envelope with a zod schema
// (STYLE.md rule 11). Subjects: match.<p>.event / match.<p>.timer, timers.<p>.<bucket>,
// deliver.<p>. The journal carries JournalRecord as JSON-compatible msgpack too.
import { z } from 'zod';

import { defineMessage, isNumber, isObject, isString, optional, type Shape } from './codec.js';

const record = z.record(z.string(), z.unknown());

export const NormalizedEventSchema = z.object({
  type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']),
  name: z.string(),
  userKey: z.string(),
  userId: z.string().optional(),
  anonymousId: z.string().optional(),
  messageId: z.string(),
  timestamp: z.number(),
  receivedAt: z.number(),
  properties: record,
  traits: record,
  context: record.optional(),
});

const EVENT_TYPES: ReadonlySet<unknown> = new Set(NormalizedEventSchema.shape.type.options);
const optionalString = optional(isString);
const optionalNumber = optional(isNumber);
const optionalObject = optional(isObject);

/** NormalizedEventSchema's rules as a fast check (codec.ts). */
const isNormalizedEvent: Shape = (e) =>
  isObject(e) &&
  EVENT_TYPES.has(e.type) &&
  isString(e.name) &&
  isString(e.userKey) &&
  optionalString(e.userId) &&
  optionalString(e.anonymousId) &&
  isString(e.messageId) &&
  isNumber(e.timestamp) &&
  isNumber(e.receivedAt) &&
  isObject(e.properties) &&
  isObject(e.traits) &&
  optionalObject(e.context);

/** ingest -> matcher, on match.<p>.event. Nats-Msg-Id = event.messageId. */
export const MatchEventMessage = defineMessage(
  'match.event',
  z.object({ v: z.literal(1), kind: z.literal('event'), event: NormalizedEventSchema }),
  (m) => isObject(m) && m.v === 1 && m.kind === 'event' && isNormalizedEvent(m.event),
);

/** matcher -> its shadow consumer, on shadow.<p>.event (Nats-Msg-Id = the event's messageId): an
 * event the live version decided on, for the journeys' shadow versions, with the user's event
 * count of the last second the live version decided with. */
export const ShadowEventMessage = defineMessage(
  'shadow.event',
  z.object({
    v: z.literal(1),
    kind: z.literal('shadow_event'),
    event: NormalizedEventSchema,
    eventsLastSecond: z.number(),
  }),
  (m) =>
    isObject(m) &&
    m.v === 1 &&
    m.kind === 'shadow_event' &&
    isNormalizedEvent(m.event) &&
    isNumber(m.eventsLastSecond),
);

/** One delivery attempt, as kept in the job's history (and in its DLQ record). */
export const DeliveryAttemptSchema = z.object({
  /** 1-based attempt number. */
  n: z.number(),
  /** Unix ms when the attempt started. */
  at: z.number(),
  durationMs: z.number(),
  /** `retry` (a retryable failure) or a terminal reason such as `http_400`, `gone`. */
  outcome: z.string(),
  /** HTTP status; absent for a network error or a nats destination. */
  status: z.number().optional(),
  detail: z.string(),
});
export type DeliveryAttempt = z.output<typeof DeliveryAttemptSchema>;

/** matcher -> sender, on deliver.<p>. Nats-Msg-Id = deliveryId. A retry is the same job
 * re-published by the sender with the attempt fields set (Nats-Msg-Id = `<deliveryId>:a<n>`). */
export const DeliverJobSchema = z.object({
  v: z.literal(1),
  deliveryId: z.string(),
  destination: z.string(),
  userKey: z.string(),
  stepKey: z.object({ journeyId: z.string(), version: z.number(), stepId: z.string() }),
  payload: record,
  eventReceivedAt: z.number(),
  eventTimestamp: z.number(),
  /** The attempt this copy makes (absent: 1). */
  attempt: z.number().optional(),
  /** Unix ms of attempt 1: the retry budget counts from here. */
  firstAttemptAt: z.number().optional(),
  /** Do not attempt before this unix ms (a retry's backoff). */
  notBefore: z.number().optional(),
  /** The attempts made so far. */
  attempts: z.array(DeliveryAttemptSchema).optional(),
});

const isAttempt: Shape = (a) =>
  isObject(a) &&
  isNumber(a.n) &&
  isNumber(a.at) &&
  isNumber(a.durationMs) &&
  isString(a.outcome) &&
  optionalNumber(a.status) &&
  isString(a.detail);

/** DeliverJobSchema's rules as a fast check (codec.ts). */
const isDeliverJob: Shape = (j) => {
  if (!isObject(j)) return false;
  const k = j.stepKey;
  return (
    j.v === 1 &&
    isString(j.deliveryId) &&
    isString(j.destination) &&
    isString(j.userKey) &&
    isObject(k) &&
    isString(k.journeyId) &&
    isNumber(k.version) &&
    isString(k.stepId) &&
    isObject(j.payload) &&
    isNumber(j.eventReceivedAt) &&
    isNumber(j.eventTimestamp) &&
    optionalNumber(j.attempt) &&
    optionalNumber(j.firstAttemptAt) &&
    optionalNumber(j.notBefore) &&
    (j.attempts === undefined || (Array.isArray(j.attempts) && j.attempts.every(isAttempt)))
  );
};

export const DeliverJobMessage = defineMessage('deliver.job', DeliverJobSchema, isDeliverJob);
export type DeliverJob = z.output<typeof DeliverJobSchema>;

/** A pending timer: matcher -> timers.<p>.<bucket> (Nats-Msg-Id = token), and timer -> matcher on
 * match.<p>.timer when due (Nats-Msg-Id = `timer:<token>`). */
export const TimerSchema = z.object({
  v: z.literal(1),
  kind: z.literal('timer'),
  journeyId: z.string(),
  userKey: z.string(),
  instanceKey: z.string(),
  token: z.string(),
  at: z.number(),
  /** A delivery retry parked by the sender: fired onto deliver.<p> (Nats-Msg-Id = token), not to
   * the matcher, and not held back by the watermark. */
  deliver: DeliverJobSchema.optional(),
});
export const TimerMessage = defineMessage(
  'timer',
  TimerSchema,
  (t) =>
    isObject(t) &&
    t.v === 1 &&
    t.kind === 'timer' &&
    isString(t.journeyId) &&
    isString(t.userKey) &&
    isString(t.instanceKey) &&
    isString(t.token) &&
    isNumber(t.at) &&
    (t.deliver === undefined || isDeliverJob(t.deliver)),
);
export type TimerRecord = z.output<typeof TimerSchema>;

/** Subjects, in one place. */
export const subjects = {
  matchEvent: (p: number) => `match.${p}.event`,
  matchTimer: (p: number) => `match.${p}.timer`,
  matchPartition: (p: number) => `match.${p}.*`,
  /** The shadow versions' inputs: events the live version decided on, the shadows' fired timers. */
  shadowEvent: (p: number) => `shadow.${p}.event`,
  shadowTimer: (p: number) => `shadow.${p}.timer`,
  shadowPartition: (p: number) => `shadow.${p}.*`,
  timerBucket: (p: number, bucket: number) => `timers.${p}.${bucket}`,
  timerPartition: (p: number) => `timers.${p}.*`,
  deliver: (p: number) => `deliver.${p}`,
  journal: (journeyId: string, p: number) => `journal.${journeyId}.${p}`,
  dlq: (stage: string) => `dlq.${stage}`,
  /** The audit trail of a writer (`audit.admin`: the admin HTTP API). */
  audit: (writer: string) => `audit.${writer}`,
} as const;
