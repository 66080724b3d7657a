// One Spec event (from `events.<type>` or the HTTP Tracking API) to the NormalizedEvent that the
// matcher and the journey core read. Pure: the receive time and the id generator are arguments,
// so the same input always gives the same output.
import type { z } from 'zod';
import type { EventType, Instant, NormalizedEvent } from '../journey/index.js';
import { contentProblem } from './content.js';
import { EventCodes, type EventProblem } from './errors.js';
import { eventSizeBytes, MAX_EVENT_DEPTH, nestsDeeperThan, tooDeep, tooLarge } from './json.js';
import { identifierProblem } from './identifiers.js';
import { describeValue, isPlainObject } from './plain.js';
import { correctTimestamp, type ClientTimes } from './skew.js';
import { EVENT_TYPES, isEventType, specEventSchema, type SpecEvent } from './spec.js';
import { problemFromIssue } from './spec-issues.js';
import { isInTimestampWindow, TIMESTAMP_WINDOW } from './timestamp.js';

/** Segment's per-event limit (HTTP Tracking API and its libraries). */
export const DEFAULT_MAX_EVENT_BYTES = 32 * 1024;

export interface NormalizeOptions {
  /** When the event entered Cairn (epoch ms): the JetStream message time or the HTTP arrival time. */
  receivedAt: Instant;
  /** The type the transport implies: `events.<type>` or `/v1/<type>`. The body may omit `type`. */
  typeHint?: EventType;
  /** Per-event size limit in bytes of compact JSON; default 32 KB. */
  maxBytes?: number;
  /** The size as received, when the caller has it (the body's byte length); else measured here. */
  sizeBytes?: number;
  /** Makes a messageId for an event that has none (Segment assigns one too). */
  generateId: () => string;
}

export type NormalizeResult = { ok: true; event: NormalizedEvent } | { ok: false; error: EventProblem };

function refuse(error: EventProblem): NormalizeResult {
  return { ok: false, error };
}

/** The body's `type`, checked against the transport's; the problem when there is no good answer. */
function resolveType(raw: Record<string, unknown>, hint: EventType | undefined): EventType | EventProblem {
  const declared = raw.type;
  const allowed = `use one of ${EVENT_TYPES.join(', ')}`;
  if (declared === undefined || declared === null) {
    return (
      hint ?? {
        code: EventCodes.UNKNOWN_TYPE,
        field: 'type',
        reason: `type is missing: set it (${allowed}), or publish to events.<type> / POST /v1/<type>`,
      }
    );
  }
  if (!isEventType(declared)) {
    return {
      code: EventCodes.UNKNOWN_TYPE,
      field: 'type',
      reason: `type ${describeValue(declared)} is not a Segment Spec type: ${allowed}`,
    };
  }
  if (hint !== undefined && declared !== hint) {
    return {
      code: EventCodes.TYPE_MISMATCH,
      field: 'type',
      reason: `the body says type "${declared}" but it was sent as "${hint}" (subject events.${hint} or path /v1/${hint})`,
    };
  }
  return declared;
}

/** Page and screen names, group and alias ids have no slot of their own in NormalizedEvent, so
 * they travel in `properties` where journey conditions can read them. A page's `properties.name`
 * set by the producer wins over the top-level one (analytics.js sends both, equal); the group and
 * alias ids always win, being the fields those types are about. */
function propertiesOf(spec: SpecEvent): Record<string, unknown> {
  const properties = { ...spec.properties };
  switch (spec.type) {
    case 'page':
      if (spec.category != null) properties.category ??= spec.category;
      if (spec.name != null) properties.name ??= spec.name;
      break;
    case 'screen':
      if (spec.name != null) properties.name ??= spec.name;
      break;
    case 'group':
      properties.groupId = spec.groupId;
      break;
    case 'alias':
      properties.previousId = spec.previousId;
      break;
  }
  return properties;
}

/** identify: the user's traits, top-level over `context.traits` (where browser libraries put them).
 * group: the group's traits, which describe the company, not the user, so ingest never merges
 * them into the user's profile (see traitsForProfile). Other types carry no traits. */
function traitsOf(spec: SpecEvent): Record<string, unknown> {
  if (spec.type === 'identify') {
    const fromContext = spec.context?.traits as Record<string, unknown> | null | undefined;
    return { ...fromContext, ...spec.traits };
  }
  return spec.type === 'group' ? { ...spec.traits } : {};
}

/**
 * Validates and normalizes one event. Refusals name the field and the fix; see docs/errors.md.
 * The event's own `receivedAt` (if a replay carries Segment's) is checked but not used: durations
 * run on Cairn's receive time.
 */
export function normalizeEvent(raw: unknown, opts: NormalizeOptions): NormalizeResult {
  if (!isPlainObject(raw)) {
    return refuse({
      code: EventCodes.NOT_OBJECT,
      reason: `an event must be a JSON object, got ${describeValue(raw)}`,
    });
  }
  // Before anything walks the event recursively (the size measure, the encodings downstream).
  if (nestsDeeperThan(raw, MAX_EVENT_DEPTH)) return refuse(tooDeep(MAX_EVENT_DEPTH));
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  let size = opts.sizeBytes;
  if (size === undefined) {
    try {
      size = eventSizeBytes(raw);
    } catch (err) {
      return refuse({
        code: EventCodes.NOT_JSON,
        reason: `the event cannot be written as JSON: ${(err as Error).message}`,
      });
    }
  }
  if (size > maxBytes) return refuse(tooLarge(size, maxBytes));
  const unsafe = contentProblem(raw);
  if (unsafe) return refuse(unsafe);

  const type = resolveType(raw, opts.typeHint);
  if (typeof type !== 'string') return refuse(type);
  const longId = identifierProblem(raw, type);
  if (longId) return refuse(longId);

  const parsed = specEventSchema.safeParse({ ...raw, type });
  if (!parsed.success) {
    // Only the first issue: one precise reason beats a list the producer must untangle.
    return refuse(problemFromIssue(parsed.error.issues[0] as z.core.$ZodIssue, raw));
  }
  const spec = parsed.data;

  if (spec.type === 'alias' && spec.userId === undefined) {
    return refuse({
      code: EventCodes.ALIAS_NO_USER_ID,
      field: 'userId',
      reason: 'an alias event needs the userId that previousId becomes',
    });
  }
  const userKey = spec.userId ?? spec.anonymousId;
  if (userKey === undefined) {
    return refuse({
      code: EventCodes.NO_IDENTITY,
      reason: 'the event has neither userId nor anonymousId; every Spec event needs one of them',
    });
  }

  // A batch's `sentAt` reaches here as the item's own: the HTTP API copies it (http-api.ts).
  const sentAt = spec.sentAt ?? undefined;

  const times: ClientTimes = {
    receivedAt: opts.receivedAt,
    originalTimestamp: spec.originalTimestamp ?? undefined,
    timestamp: spec.timestamp ?? undefined,
    sentAt,
  };
  const timestamp = correctTimestamp(times);
  // Each client time is within the window (spec.ts); a correction by their gap may leave it.
  if (sentAt !== undefined && !isInTimestampWindow(timestamp)) {
    const callTime = times.originalTimestamp ?? times.timestamp ?? sentAt;
    const days = Math.round(Math.abs(sentAt - callTime) / 86_400_000);
    return refuse({
      code: EventCodes.TIMESTAMP_OUT_OF_RANGE,
      field: 'timestamp',
      reason: `the skew-corrected timestamp (receivedAt - (sentAt - originalTimestamp)) falls outside ${TIMESTAMP_WINDOW.text}: sentAt and the call time are ${days} days apart`,
    });
  }

  const event: NormalizedEvent = {
    type: spec.type,
    name: spec.type === 'track' ? spec.event : spec.type,
    userKey,
    ...(spec.userId !== undefined && { userId: spec.userId }),
    ...(spec.anonymousId !== undefined && { anonymousId: spec.anonymousId }),
    // An empty messageId is as good as none: it cannot deduplicate anything.
    messageId: spec.messageId || opts.generateId(),
    timestamp,
    receivedAt: opts.receivedAt,
    properties: propertiesOf(spec),
    traits: traitsOf(spec),
    ...(spec.context != null && { context: spec.context }),
  };
  return { ok: true, event };
}
