// Handler of match.<p>.archive: a notice that the instance's version was archived. The core
// ends the instance ('exited', version_archived) unless it already ended or is of another
// version (a newer entry at the same key).
import type { JsMsg } from '@nats-io/jetstream';

import {
  ack,
  archiveInputId,
  terminal,
  type ArchiveNotice,
  type Outcome,
  type KvStore,
} from '../../libs/bus/index.js';
import { applyInput, type ApplyContext } from './apply.js';
import { partitionOfSubject } from './event.js';
import { profileSource } from './profile.js';

export function archiveHandler(
  ctx: ApplyContext & { profiles: KvStore },
  decode: (msg: JsMsg) => ArchiveNotice,
) {
  return async (msg: JsMsg): Promise<Outcome> => {
    let notice: ArchiveNotice;
    try {
      notice = decode(msg);
    } catch (err) {
      return terminal('bad_message', (err as Error).message);
    }
    const profile = profileSource(ctx.profiles, notice.userKey);
    await applyInput(
      ctx,
      {
        journeyId: notice.journeyId,
        userKey: notice.userKey,
        instanceKey: notice.instanceKey,
        partition: partitionOfSubject(msg.subject),
      },
      { kind: 'archive', id: archiveInputId(notice.version), at: notice.at },
      { profile, eventsLastSecond: 0, existingOnly: true, onlyVersion: notice.version },
    );
    return ack();
  };
}
