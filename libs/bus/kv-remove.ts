// Removing one revision of a KV key without leaving a marker: a KV delete or purge writes a
// marker message that stays for ever (one per key ever removed), and a filtered purge on
// nats-server 2.9.10 moves consumers whose filter overlaps the key. Deleting the revision's own
// stream message touches nothing else: when it is still the key's newest value the key is gone
// (a get finds nothing, a create succeeds); when a newer write replaced it (history 1) there is
// nothing left to delete and the newer value stays.
import { JetStreamApiError } from '@nats-io/jetstream';

import type { Bus } from './connection.js';

/** JSStreamMsgDeleteFailedF: the server says why in the description. */
const MSG_DELETE_FAILED = 10057;
/** What 2.9 answers for a sequence already deleted ("no message found") or past the last one
 * ("stream store EOF"). */
const NOT_THERE = /no message found|EOF/i;

/** Deletes exactly `revision` of a key of `bucket`; false when it no longer exists. */
export async function removeKvRevision(bus: Bus, bucket: string, revision: number): Promise<boolean> {
  try {
    return await bus.jsm.streams.deleteMessage(`KV_${bucket}`, revision, false);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === MSG_DELETE_FAILED && NOT_THERE.test(err.message)) {
      return false;
    }
    throw err;
  }
}
