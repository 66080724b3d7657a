// The handler of `events.>`: parse, validate and normalize one Spec event, merge an identify's
// traits into the profile, and route the event to `match.<p>.event` (Nats-Msg-Id = messageId).
import type { JsMsg } from '@nats-io/jetstream';

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
  type KvStore,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import {
  aliasTarget,
  audienceChange,
  DEFAULT_MAX_EVENT_BYTES,
  isEventType,
  normalizeEvent,
  parseEventJson,
  traitsForProfile,
  type ComputedAudience,
  type JsonResult,
  type NormalizeResult,
} from '../../libs/events/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import type { DedupeStore } from './dedupe.js';
import type { IngestMetrics } from './metrics.js';
import { applyProfileAudience, linkAlias, mergeProfileTraits, resolveUserKey } from './profile.js';

/** The receive time of a message: its JetStream timestamp, in epoch ms. */
export const receivedAtOf = (msg: JsMsg): number => Math.floor(msg.info.timestampNanos / 1e6);

/** Parses and normalizes each message once: keyOf needs the user, the handler the event. */
export class EventParser {
  private readonly parsed = new WeakMap<JsMsg, JsonResult>();
  private readonly normalized = new WeakMap<JsMsg, NormalizeResult>();

  of(msg: JsMsg): JsonResult {
    let r = this.parsed.get(msg);
    if (!r) {
      r = parseEventJson(msg.data, { maxBytes: DEFAULT_MAX_EVENT_BYTES });
      this.parsed.set(msg, r);
    }
    return r;
  }

  /** The normalized event, or why it is refused (undefined: the body is not JSON). */
  eventOf(msg: JsMsg): NormalizeResult | undefined {
    let r = this.normalized.get(msg);
    if (!r) {
      const parsed = this.of(msg);
      if (!parsed.ok) return undefined;
      const last = msg.subject.split('.').pop();
      // Deterministic, so that a redelivery routes the same id (and JetStream drops the repeat).
      const generatedId = `evt-${msg.seq}`;
      r = normalizeEvent(parsed.value, {
        receivedAt: receivedAtOf(msg),
        ...(isEventType(last) ? { typeHint: last } : {}),
        sizeBytes: msg.data.byteLength,
        generateId: () => generatedId,
      });
      this.normalized.set(msg, r);
    }
    return r;
  }

  forget(msg: JsMsg): void {
    this.parsed.delete(msg);
    this.normalized.delete(msg);
  }
}

/** Whether the event carries its own messageId (not the one made from its stream sequence). */
const ownMessageId = (msg: JsMsg, messageId: string): boolean => messageId !== `evt-${msg.seq}`;

export interface EventHandlerDeps {
  bus: Bus;
  config: Pick<Config, 'partitions'>;
  metrics: Pick<Metrics, 'eventsIngested' | 'kvCasConflicts'>;
  profiles: KvStore;
  parser: EventParser;
  /** messageId dedupe beyond the stream window; absent when CAIRN_INGEST_DEDUPE_WINDOW is 0. */
  dedupe?: DedupeStore;
  /** Computed audiences, evaluated on every identify. */
  audiences?: readonly ComputedAudience[];
  ingestMetrics?: Pick<IngestMetrics, 'duplicates' | 'identity'>;
  /** The canonical user resolved when the message arrived (identity-order.ts), if known. */
  canonicalOf?: (seq: number) => string | undefined;
}

export function eventHandler(deps: EventHandlerDeps) {
  const { bus, config, metrics, profiles, parser, dedupe, audiences = [], ingestMetrics, canonicalOf } = deps;
  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const parsed = parser.of(msg);
    if (!parsed.ok) return terminal(parsed.error.code, parsed.error.reason);
    const result = parser.eventOf(msg)!;
    if (!result.ok) return terminal(result.error.code, result.error.reason);
    let event = result.event;

    // The dedupe check and the alias lookup are independent: one round trip, not two. (A
    // redelivery finds its own dedupe record, so marking before a failed lookup is harmless.)
    // Identity: an alias record sends the event to its canonical user (profile, partition,
    // instances); resolved on arrival, in stream order, unless this is a redelivery.
    const known = canonicalOf?.(msg.seq);
    const [repeat, canonical] = await Promise.all([
      dedupe && ownMessageId(msg, event.messageId) ? dedupe.isRepeat(event.messageId, msg.seq) : false,
      known ?? resolveUserKey(profiles, event.userKey),
    ]);
    if (repeat) {
      ingestMetrics?.duplicates.inc();
      ctx.debug({ messageId: event.messageId, seq: msg.seq }, 'duplicate messageId dropped');
      return ack();
    }
    if (canonical !== event.userKey) event = { ...event, userKey: canonical };
    const alias = aliasTarget(event);
    if (alias) {
      const linked = await linkAlias(profiles, alias.from, alias.to, metrics);
      if (linked !== undefined) ingestMetrics?.identity.inc({ change: 'alias' });
      ctx.debug({ linked: linked !== undefined }, 'alias applied');
    }
    const traits = traitsForProfile(event);
    if (traits) await mergeProfileTraits(profiles, event.userKey, traits, metrics, audiences);
    const change = audienceChange(event);
    if (change) {
      await applyProfileAudience(profiles, event.userKey, change, metrics);
      ingestMetrics?.identity.inc({ change: change.entered ? 'audience_entered' : 'audience_exited' });
    }

    const p = partitionOf(event.userKey, config.partitions);
    const routed = await publishWithId(
      bus.lean,
      subjects.matchEvent(p),
      MatchEventMessage.encode({ v: 1, kind: 'event', event }),
      event.messageId,
    );
    metrics.eventsIngested.inc({ type: event.type });
    ctx.debug(
      { messageId: event.messageId, type: event.type, partition: p, duplicate: routed.duplicate },
      'event routed',
    );
    return ack();
  };
}
