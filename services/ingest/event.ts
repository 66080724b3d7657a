// The handler of `events.>`: parse, validate and normalize one Spec event, merge an identify's
// traits into the profile, and route the event to `match.<p>.event` (Nats-Msg-Id = messageId).
import type { JsMsg } from '@nats-io/jetstream';

import {
  ack,
  MatchEventMessage,
  retry,
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
import { aliasLinked, applyProfileAudience, linkAlias, mergeProfileTraits } from './profile.js';

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

/** Ingest shard `index` of `count` (CAIRN_INGEST_SHARD, CAIRN_INGEST_SHARDS). */
export interface IngestShard {
  index: number;
  count: number;
}

/** Whether `shard` owns partition p: p mod count == index. */
export const ownsPartition = (shard: IngestShard, p: number): boolean => p % shard.count === shard.index;

/** How long a shard waits in its handler for the shard of an alias's previousId to write the link,
 * between polls starting at 20 ms and doubling up to 500 ms, before it retries the alias. */
const ALIAS_POLL_FIRST_MS = 20;
const ALIAS_POLL_MAX_MS = 500;

export interface EventHandlerDeps {
  bus: Bus;
  config: Pick<Config, 'partitions' | 'ackWaitMs'>;
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
  /** The canonical user of `userKey` at stream sequence `seq` (identity-order.ts), when it was not
   * resolved on arrival. Default: the userKey itself. */
  canonicalAt?: (seq: number, userKey: string) => Promise<string>;
  /** This process's ingest shard (default: the only one). */
  shard?: IngestShard;
  /** True once the service is stopping: a wait for another shard gives up. */
  stopping?: () => boolean;
}

/**
 * Each shard reads every event. Of an event it handles only its part: the shard of the event's
 * partition (of its canonical user) dedupes, writes the profile of identify and audience events,
 * and routes it; of an alias, the shard of previousId's partition writes the link (`linkAlias`),
 * and every other shard waits until that link is stored before it acks, so that no shard ever
 * resolves a later event without it (neither from its memory nor, after a restart, from KV). A
 * refused event is dead-lettered by shard 0 alone. The rest is acked.
 */
export function eventHandler(deps: EventHandlerDeps) {
  const { bus, config, metrics, profiles, parser, dedupe, audiences = [], ingestMetrics, canonicalOf } = deps;
  const shard = deps.shard ?? { index: 0, count: 1 };
  const canonicalAt = deps.canonicalAt ?? ((_seq: number, userKey: string) => Promise.resolve(userKey));

  /** Waits for the link of the alias at `seq`, within ack wait; false when it is not there yet. */
  const awaitLink = async (from: string, seq: number, canonical: string): Promise<boolean> => {
    const until = Date.now() + config.ackWaitMs;
    for (let pause = ALIAS_POLL_FIRST_MS; ; pause = Math.min(pause * 2, ALIAS_POLL_MAX_MS)) {
      if (await aliasLinked(profiles, from, seq, canonical)) return true;
      if (Date.now() + pause > until || deps.stopping?.()) return false;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };

  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    const parsed = parser.of(msg);
    if (!parsed.ok) return shard.index === 0 ? terminal(parsed.error.code, parsed.error.reason) : ack();
    const result = parser.eventOf(msg)!;
    if (!result.ok) return shard.index === 0 ? terminal(result.error.code, result.error.reason) : ack();
    let event = result.event;

    // Identity: an alias record sends the event to its canonical user (profile, partition,
    // instances); resolved on arrival, in stream order, or else at this sequence now.
    const canonical = canonicalOf?.(msg.seq) ?? (await canonicalAt(msg.seq, event.userKey));
    if (canonical !== event.userKey) event = { ...event, userKey: canonical };
    const p = partitionOf(event.userKey, config.partitions);
    const routes = ownsPartition(shard, p);
    const alias = aliasTarget(event);
    // As IdentityOrder decides: no link when the canonical user already is `from`.
    const links = alias !== undefined && canonical !== alias.from;
    if (!routes && !links) return ack();

    // A repeated messageId is dropped by every shard alike (the record names the first sequence).
    if (dedupe && ownMessageId(msg, event.messageId) && (await dedupe.isRepeat(event.messageId, msg.seq))) {
      ingestMetrics?.duplicates.inc();
      ctx.debug({ messageId: event.messageId, seq: msg.seq }, 'duplicate messageId dropped');
      return ack();
    }
    const writesLink = links && ownsPartition(shard, partitionOf(alias.from, config.partitions));
    if (writesLink) {
      const linked = await linkAlias(profiles, alias.from, canonical, msg.seq, metrics);
      if (linked !== undefined) ingestMetrics?.identity.inc({ change: 'alias' });
      ctx.debug({ linked: linked !== undefined }, 'alias applied');
    } else if (links && !(await awaitLink(alias.from, msg.seq, canonical))) {
      // Before routing too: the profiles are merged before the alias (and the events after it,
      // which wait behind it) reach the matcher, as with one shard.
      ctx.debug({ seq: msg.seq }, "alias not linked yet by its previousId's shard; retried");
      return retry(ALIAS_POLL_MAX_MS);
    }

    if (routes) {
      const traits = traitsForProfile(event);
      if (traits) await mergeProfileTraits(profiles, event.userKey, traits, metrics, audiences);
      const change = audienceChange(event);
      if (change) {
        await applyProfileAudience(profiles, event.userKey, change, metrics);
        ingestMetrics?.identity.inc({ change: change.entered ? 'audience_entered' : 'audience_exited' });
      }

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
    }

    return ack();
  };
}
