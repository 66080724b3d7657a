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
} from '../../libs/events/index.js';
import type { Metrics } from '../../libs/telemetry/index.js';
import type { DedupeStore } from './dedupe.js';
import type { IngestMetrics } from './metrics.js';
import { applyProfileAudience, linkAlias, mergeProfileTraits, resolveUserKey } from './profile.js';

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
   * order; an unusable body is keyed by its subject. An alias is keyed by its previousId: the
   * events of that id that follow it in the stream are resolved only once it is applied. */
  keyOf(msg: JsMsg): string {
    const r = this.of(msg);
    if (r.ok && typeof r.value === 'object' && r.value !== null) {
      const v = r.value as { userId?: unknown; anonymousId?: unknown; previousId?: unknown; type?: unknown };
      const isAlias = v.type === 'alias' || (v.type === undefined && msg.subject === 'events.alias');
      if (isAlias && typeof v.previousId === 'string' && v.previousId) return `u:${v.previousId}`;
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
  profiles: KvStore;
  parser: EventParser;
  /** messageId dedupe beyond the stream window; absent when CAIRN_INGEST_DEDUPE_WINDOW is 0. */
  dedupe?: DedupeStore;
  /** Computed audiences, evaluated on every identify. */
  audiences?: readonly ComputedAudience[];
  ingestMetrics?: Pick<IngestMetrics, 'duplicates' | 'identity'>;
}

export function eventHandler(deps: EventHandlerDeps) {
  const { bus, config, metrics, profiles, parser, dedupe, audiences = [], ingestMetrics } = deps;
  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const parsed = parser.of(msg);
    if (!parsed.ok) return terminal(parsed.error.code, parsed.error.reason);
    const last = msg.subject.split('.').pop();
    const receivedAt = receivedAtOf(msg);
    // Deterministic, so that a redelivery routes the same id (and JetStream drops the repeat).
    const generatedId = `evt-${msg.seq}`;
    const result = normalizeEvent(parsed.value, {
      receivedAt,
      ...(isEventType(last) ? { typeHint: last } : {}),
      sizeBytes: msg.data.byteLength,
      generateId: () => generatedId,
    });
    if (!result.ok) return terminal(result.error.code, result.error.reason);
    let event = result.event;

    // The dedupe check and the alias lookup are independent: one round trip, not two. (A
    // redelivery finds its own dedupe record, so marking before a failed lookup is harmless.)
    const [repeat, canonical] = await Promise.all([
      dedupe && event.messageId !== generatedId ? dedupe.isRepeat(event.messageId, msg.seq) : false,
      // Identity: an alias record sends the event to its canonical user (profile, partition, instances).
      resolveUserKey(profiles, event.userKey),
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
