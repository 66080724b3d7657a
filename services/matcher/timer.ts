// Handler of match.<p>.timer: a fired timer applied to the instance it was started for. The
// core ignores (and journals) a token that is no longer the instance's current one. A retention
// timer (`retain:<instanceId>`) retires the ended instance instead (retention.ts). A shadow
// version's timer (`shadow:<token>`) is forwarded to the shadow stage (shadow-forward.ts).
import type { JsMsg } from '@nats-io/jetstream';

import { ack, retry, terminal, type Outcome, type TimerRecord, type KvStore } from '../../libs/bus/index.js';
import type { Input } from '../../libs/journey/index.js';
import { applyInput, type ApplyContext } from './apply.js';
import { partitionOfSubject } from './event.js';
import { profileSource } from './profile.js';
import { expireInstance, retentionInstanceId } from './retention.js';
import { isShadowTimer } from './shadow.js';
import { forwardShadowTimer } from './shadow-forward.js';

/** Wait before a retention that met a concurrent write reads the instance again. */
const RETENTION_CONFLICT_RETRY_MS = 200;

export function timerHandler(ctx: ApplyContext & { profiles: KvStore }, decode: (msg: JsMsg) => TimerRecord) {
  return async (msg: JsMsg): Promise<Outcome> => {
    let timer: TimerRecord;
    try {
      timer = decode(msg);
    } catch (err) {
      return terminal('bad_message', (err as Error).message);
    }
    if (isShadowTimer(timer)) {
      await forwardShadowTimer(ctx, msg, timer, partitionOfSubject(msg.subject));
      return ack();
    }
    const retiring = retentionInstanceId(timer.token);
    if (retiring !== undefined) {
      const target = { ...timer, partition: partitionOfSubject(msg.subject) };
      const done = await expireInstance(ctx, target, retiring);
      return done === 'conflict' ? retry(RETENTION_CONFLICT_RETRY_MS) : ack();
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
