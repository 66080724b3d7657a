// The live handlers' side of the shadow stage (shadow-stage.ts): once an input's live decision
// is committed and its effects published, the input is forwarded to stream SHADOW — an event on
// `shadow.<p>.event` only when a journey has a shadow listening to it (without one, nothing is
// published), a shadow's fired timer on `shadow.<p>.timer` — each with a deterministic
// Nats-Msg-Id. The live ack waits for that one publish, never for the shadow's work.
import type { JsMsg } from '@nats-io/jetstream';

import {
  publishWithId,
  ShadowEventMessage,
  subjects,
  type Bus,
  type TimerRecord,
} from '../../libs/bus/index.js';
import type { NormalizedEvent } from '../../libs/journey/index.js';
import type { JourneyCatalog } from './catalog.js';

/** An event the live version decided on, forwarded to the journeys' shadows listening to it
 * (none: nothing is published). */
export async function forwardShadowEvent(
  ctx: { bus: Bus; catalog: JourneyCatalog },
  event: NormalizedEvent,
  partition: number,
  eventsLastSecond: number,
): Promise<void> {
  if (ctx.catalog.shadowsFor(event.name).length === 0) return;
  await publishWithId(
    ctx.bus.lean,
    subjects.shadowEvent(partition),
    ShadowEventMessage.encode({ v: 1, kind: 'shadow_event', event, eventsLastSecond }),
    event.messageId,
  );
}

/** A shadow's fired timer that reached the live handler, forwarded as it came. */
export async function forwardShadowTimer(
  ctx: { bus: Bus },
  msg: JsMsg,
  timer: TimerRecord,
  partition: number,
): Promise<void> {
  await publishWithId(ctx.bus.lean, subjects.shadowTimer(partition), msg.data, `timer:${timer.token}`);
}
