// The Segment HTTP Tracking API's request rules (reference/jetstream.md §5.1), as pure decisions:
// a parsed body in, the events to publish to `events.<type>` out, or a 400 reason. What Segment
// accepts and drops later (no identity, a track without `event`, a bad type) is accepted here and
// refused by the normalization that follows, so it lands in `dlq.ingest` with its reason.
import type { EventType } from '../journey/index.js';
import { contentProblem } from './content.js';
import type { EventCode } from './errors.js';
import { identifierProblem } from './identifiers.js';
import { eventSizeBytes, MAX_EVENT_DEPTH, nestsDeeperThan, tooDeep } from './json.js';
import { describeValue, isPlainObject } from './plain.js';
import { isEventType } from './spec.js';
import { DEFAULT_MAX_EVENT_BYTES } from './normalize.js';

/** Segment's limits: 32 KB per event, 500 KB and 2,500 events per batch request. */
export interface HttpLimits {
  maxEventBytes: number;
  maxBatchBytes: number;
  maxBatchEvents: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
  maxBatchBytes: 500 * 1024,
  maxBatchEvents: 2_500,
});

/** The subject token of an item whose type is missing or not a Spec type: the normalization
 * refuses it (CAIRN_E_EVENT_UNKNOWN_TYPE) and it lands in the DLQ, as Segment drops it. */
export const UNKNOWN_TYPE_TOKEN = 'unknown';

/** The paths of the API: one per Spec type, plus `batch`. */
export type HttpApiPath = EventType | 'batch';

export interface HttpApiEvent {
  /** `events.<type>`, or `events.unknown`. */
  subject: string;
  /** The event's messageId (assigned when the producer sent none): the Nats-Msg-Id. */
  messageId: string;
  /** The event as it is stored in EVENTS. */
  body: Record<string, unknown>;
}

/** A refusal: `reason` for the producer, and `code` when an event code names it (an event too
 * deep, an id too long, a forbidden key, a lone surrogate); the HTTP answer is a 400 either way. */
export type HttpApiResult =
  { ok: true; events: HttpApiEvent[]; writeKey?: string } | { ok: false; reason: string; code?: EventCode };

export interface HttpApiOptions {
  /** Makes a messageId for an event without one (Segment assigns one too). */
  generateId: () => string;
  limits?: Partial<HttpLimits>;
}

function bad(reason: string, code?: EventCode): HttpApiResult {
  return code === undefined ? { ok: false, reason } : { ok: false, reason, code };
}

/** What refuses one event before it is stored: its nesting (checked first: measuring the size
 * recurses), its size, its ids. `where` names it in the reason (`batch[3] `), or is empty. */
function eventProblem(
  item: Record<string, unknown>,
  type: unknown,
  where: string,
  limits: HttpLimits,
): HttpApiResult | undefined {
  if (nestsDeeperThan(item, MAX_EVENT_DEPTH)) {
    const p = tooDeep(MAX_EVENT_DEPTH);
    return bad(where ? `${where}: ${p.reason}` : p.reason, p.code);
  }
  const size = eventSizeBytes(item);
  if (size > limits.maxEventBytes) {
    return where
      ? bad(`${where} is ${size} bytes; the limit is ${limits.maxEventBytes} bytes per event`)
      : bad(`the event is ${size} bytes; the limit is ${limits.maxEventBytes} bytes`);
  }
  const id = identifierProblem(item, type);
  if (id) return bad(where ? `${where}.${id.reason}` : id.reason, id.code);
  return undefined;
}

/** A prepared event nests what the batch shares (`context`, `integrations`): check it again. */
function preparedProblem(e: HttpApiEvent, where: string): HttpApiResult | undefined {
  if (!nestsDeeperThan(e.body, MAX_EVENT_DEPTH)) return undefined;
  const p = tooDeep(MAX_EVENT_DEPTH);
  return bad(where ? `${where} with the batch's context: ${p.reason}` : p.reason, p.code);
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** One event as stored: type and messageId set, the write key removed, and for a batch item the
 * batch's `sentAt` (the skew correction needs it), `context` and `integrations` as defaults. */
function prepare(
  item: Record<string, unknown>,
  type: EventType | undefined,
  batch: Record<string, unknown> | undefined,
  opts: HttpApiOptions,
): HttpApiEvent {
  const body: Record<string, unknown> = { ...item };
  delete body.writeKey;
  if (type !== undefined && (body.type === undefined || body.type === null)) body.type = type;
  if (batch) {
    if ((body.sentAt === undefined || body.sentAt === null) && batch.sentAt != null) {
      body.sentAt = batch.sentAt;
    }
    for (const field of ['context', 'integrations'] as const) {
      const shared = batch[field];
      if (isPlainObject(shared)) {
        body[field] = isPlainObject(body[field]) ? { ...shared, ...body[field] } : (body[field] ?? shared);
      }
    }
  }
  // Only a missing id is assigned: a malformed one is kept, for normalization to refuse by name.
  if (body.messageId === undefined || body.messageId === null || body.messageId === '') {
    body.messageId = opts.generateId();
  }
  const messageId = typeof body.messageId === 'string' ? body.messageId : JSON.stringify(body.messageId);
  // Only a Spec type names a subject: anything else must not reach the subject space.
  const token = isEventType(body.type) ? body.type : UNKNOWN_TYPE_TOKEN;
  return { subject: `events.${token}`, messageId, body };
}

/**
 * Checks a parsed request body of `POST /v1/<path>` against Segment's rules and prepares its
 * events. The caller has already refused bodies over the request size limit and invalid JSON.
 */
export function prepareHttpEvents(path: HttpApiPath, raw: unknown, opts: HttpApiOptions): HttpApiResult {
  const limits: HttpLimits = { ...HTTP_LIMITS, ...opts.limits };
  if (!isPlainObject(raw)) return bad(`the body must be a JSON object, got ${describeValue(raw)}`);
  // The whole body: a batch's shared context reaches every item.
  const unsafe = contentProblem(raw);
  if (unsafe) return bad(unsafe.reason, unsafe.code);
  const writeKey = nonEmptyString(raw.writeKey) ? raw.writeKey : undefined;
  const withKey = (events: HttpApiEvent[]): HttpApiResult =>
    writeKey === undefined ? { ok: true, events } : { ok: true, events, writeKey };

  if (path !== 'batch') {
    const refused = eventProblem(raw, raw.type ?? path, '', limits);
    if (refused) return refused;
    return withKey([prepare(raw, path, undefined, opts)]);
  }

  const items = raw.batch;
  if (!Array.isArray(items)) return bad(`"batch" must be an array of events, got ${describeValue(items)}`);
  if (items.length > limits.maxBatchEvents) {
    return bad(`the batch has ${items.length} events; the limit is ${limits.maxBatchEvents}`);
  }
  const events: HttpApiEvent[] = [];
  for (const [i, item] of items.entries()) {
    if (!isPlainObject(item)) return bad(`batch[${i}] must be an event object, got ${describeValue(item)}`);
    const refused = eventProblem(item, item.type, `batch[${i}]`, limits);
    if (refused) return refused;
    const event = prepare(item, undefined, raw, opts);
    const deep = preparedProblem(event, `batch[${i}]`);
    if (deep) return deep;
    events.push(event);
  }
  return withKey(events);
}

/** The write key of an `Authorization: Basic base64("<writeKey>:")` header (the password is
 * ignored, as Segment does); undefined when the header is absent or not Basic. */
export function writeKeyFromBasicAuth(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = atob(m[1].replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  return key === '' ? undefined : key;
}
