// Publishing with a deterministic Nats-Msg-Id: JetStream drops a repeat within the stream's
// duplicate window, which makes re-publishing recorded commands safe (DESIGN.md §2). `js` is the
// client's JetStream or the bus's lean publisher (lean.ts), which the hot path uses.
import type { MsgHdrs } from '@nats-io/transport-node';

import type { Publisher } from './lean.js';

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when the stream had already stored a message with this id. */
  duplicate: boolean;
}

export async function publishWithId(
  js: Publisher,
  subject: string,
  bytes: Uint8Array,
  msgId: string,
  opts: { headers?: MsgHdrs; timeoutMs?: number } = {},
): Promise<PublishResult> {
  const ack = await js.publish(subject, bytes, {
    msgID: msgId,
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
}
