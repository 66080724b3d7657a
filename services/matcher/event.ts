// Handler of match.<p>.event: the event applied to every journey that listens to it — to the
// instance at the event's key (an entry when there is none) and, when the journey has exit
// rules on this event, to each of the user's other instances in it. Then forwarded to the
// journeys' shadow versions (shadow-forward.ts), which apply it apart and never hold this input.
import type { JsMsg } from '@nats-io/jetstream';

import type { MatchEventMessage, KvStore } from '../../libs/bus/index.js';
import { ack, terminal, type Outcome } from '../../libs/bus/index.js';
import { eventInstanceKey, type Input } from '../../libs/journey/index.js';
import { applyInput, userInstanceKeys, type ApplyContext } from './apply.js';
import { profileSource } from './profile.js';
import type { UserRateWindow } from './rate.js';
import { forwardShadowEvent } from './shadow-forward.js';

export interface EventHandlerContext extends ApplyContext {
  profiles: KvStore;
  rate: UserRateWindow;
}

type Decoded = ReturnType<typeof MatchEventMessage.decode>;

export function partitionOfSubject(subject: string): number {
  const p = Number(subject.split('.')[1]);
  if (!Number.isInteger(p) || p < 0) throw new Error(`no partition in subject ${subject}`);
  return p;
}

export function eventHandler(ctx: EventHandlerContext, decode: (msg: JsMsg) => Decoded) {
  return async (msg: JsMsg): Promise<Outcome> => {
    let decoded: Decoded;
    try {
      decoded = decode(msg);
    } catch (err) {
      return terminal('bad_message', (err as Error).message);
    }
    const event = decoded.event;
    const partition = partitionOfSubject(msg.subject);
    const eventsLastSecond = ctx.rate.record(event.userKey, event.receivedAt, event.messageId);
    const journeyIds = ctx.catalog.journeysFor(event.name);
    if (journeyIds.length === 0) {
      await forwardShadowEvent(ctx, event, partition, eventsLastSecond);
      return ack();
    }
    const profile = profileSource(ctx.profiles, event.userKey);
    const input: Input = { kind: 'event', id: event.messageId, event };
    for (const journeyId of journeyIds) {
      const doc = (ctx.catalog.active(journeyId) ?? ctx.catalog.newest(journeyId))?.doc;
      if (!doc) continue;
      const base = { journeyId, userKey: event.userKey, partition };
      const key = eventInstanceKey(doc, event);
      if (key !== undefined) {
        await applyInput(ctx, { ...base, instanceKey: key }, input, { profile, eventsLastSecond });
      }
      if (!ctx.catalog.exitsOn(journeyId, event.name)) continue;
      for (const other of await userInstanceKeys(ctx, journeyId, event.userKey)) {
        if (other === key) continue;
        await applyInput(ctx, { ...base, instanceKey: other }, input, {
          profile,
          eventsLastSecond,
          existingOnly: true,
        });
      }
    }
    await forwardShadowEvent(ctx, event, partition, eventsLastSecond);
    return ack();
  };
}
