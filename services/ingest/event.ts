// The handler of `events.>`: parse, validate and normalize one Spec event, merge an identify's
// traits into the profile, and route the event to `match.<p>.event` (Nats-Msg-Id = messageId).
import type { JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

import {
  ack,
  MatchEventMessage,
  partitionOf,
  publishWithId,
  subjects,
  terminal,
  type Bus,
  type HandlerContext,
  type Outcome,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  isEventType,
  normalizeEvent,
  parseEventJson,
  traitsForProfile,
  type JsonResult,
} from '../../libs/events/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import { mergeProfileTraits } from './profile.js';

/** The receive time of a message: its JetStream timestamp, in epoch ms. */
export const receivedAtOf = (msg: JsMsg): number => Math.floor(msg.info.timestampNanos / 1e6);

/** Parses each message once: keyOf needs the user, the handler needs the event. */
export class EventParser {
  private readonly parsed = new WeakMap<JsMsg, JsonResult>();

  of(msg: JsMsg): JsonResult {
    let r = this.parsed.get(msg);
    if (!r) {
      r = parseEventJson(msg.data, { maxBytes: DEFAULT_MAX_EVENT_BYTES });
      this.parsed.set(msg, r);
    }
    return r;
  }

  /** A cheap guess of the user key (userId ?? anonymousId), so that one user's events run in
   * order; an unusable body is keyed by its subject. */
  keyOf(msg: JsMsg): string {
    const r = this.of(msg);
    if (r.ok && typeof r.value === 'object' && r.value !== null) {
      const v = r.value as { userId?: unknown; anonymousId?: unknown };
      const key = typeof v.userId === 'string' && v.userId ? v.userId : v.anonymousId;
      if (typeof key === 'string' && key) return `u:${key}`;
    }
    return `s:${msg.subject}`;
  }

  forget(msg: JsMsg): void {
    this.parsed.delete(msg);
  }
}

export interface EventHandlerDeps {
  bus: Bus;
  config: Pick<Config, 'partitions'>;
  metrics: Pick<Metrics, 'eventsIngested' | 'kvCasConflicts'>;
  profiles: KV;
  parser: EventParser;
}

export function eventHandler(deps: EventHandlerDeps) {
  const { bus, config, metrics, profiles, parser } = deps;
  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const parsed = parser.of(msg);
    if (!parsed.ok) return terminal(parsed.error.code, parsed.error.reason);
    const last = msg.subject.split('.').pop();
    const receivedAt = receivedAtOf(msg);
    const result = normalizeEvent(parsed.value, {
      receivedAt,
      ...(isEventType(last) ? { typeHint: last } : {}),
      sizeBytes: msg.data.byteLength,
      // Deterministic, so that a redelivery routes the same id (and JetStream drops the repeat).
      generateId: () => `evt-${msg.seq}`,
    });
    if (!result.ok) return terminal(result.error.code, result.error.reason);
    const event = result.event;

    const traits = traitsForProfile(event);
    if (traits) await mergeProfileTraits(profiles, event.userKey, traits, metrics);

    const p = partitionOf(event.userKey, config.partitions);
    const routed = await publishWithId(
      bus.js,
      subjects.matchEvent(p),
      MatchEventMessage.encode({ v: 1, kind: 'event', event }),
      event.messageId,
    );
    metrics.eventsIngested.inc({ type: event.type });
    ctx.log.debug(
      { messageId: event.messageId, type: event.type, partition: p, duplicate: routed.duplicate },
      'event routed',
    );
    return ack();
  };
}
