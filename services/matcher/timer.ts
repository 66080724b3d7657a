// Handler of match.<p>.timer: a fired timer applied to the instance it was started for. The
// core ignores (and journals) a token that is no longer the instance's current one.
import type { JsMsg } from '@nats-io/jetstream';

import { ack, terminal, type Outcome, type TimerRecord, type KvStore } from '../../libs/bus/index.js';
import type { Input } from '../../libs/journey/index.js';
import { applyInput, type ApplyContext } from './apply.js';
import { partitionOfSubject } from './event.js';
import { profileSource } from './profile.js';

export function timerHandler(ctx: ApplyContext & { profiles: KvStore }, decode: (msg: JsMsg) => TimerRecord) {
  return async (msg: JsMsg): Promise<Outcome> => {
    let timer: TimerRecord;
    try {
      timer = decode(msg);
    } catch (err) {
      return terminal('bad_message', (err as Error).message);
    }
    const profile = profileSource(ctx.profiles, timer.userKey);
    const input: Input = { kind: 'timer', id: `timer:${timer.token}`, token: timer.token, at: timer.at };
    // With no instance at the key, the core only journals the timer as ignored: any version will do.
    const fallback = ctx.catalog.active(timer.journeyId) ?? ctx.catalog.newest(timer.journeyId);
    await applyInput(
      ctx,
      {
        journeyId: timer.journeyId,
        userKey: timer.userKey,
        instanceKey: timer.instanceKey,
        partition: partitionOfSubject(msg.subject),
      },
      input,
      // Sends after the wait read the profile; the entry counters are not used (no entry here).
      { profile, eventsLastSecond: 0, ...(fallback ? { fallback } : {}) },
    );
    return ack();
  };
}
