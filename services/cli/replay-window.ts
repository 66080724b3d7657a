// The EVENTS a replay reads: the raw messages as ingest received them, in stream (receive) order,
// from the first one stored at or after `since`, to `until` or the stream's last message when the
// read began, whichever comes first. An ordered consumer streams them: nothing is held but the
// client's pull buffer, whatever the size of the window.
import { DeliverPolicy } from '@nats-io/jetstream';

import { STREAMS, type Bus } from '../../libs/bus/index.js';

export interface WindowMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The JetStream time of the message (epoch ms): what ingest takes as the receive time. */
  receivedAt: number;
}

export interface EventWindow {
  /** Messages in the window when the read began (an estimate when `until` cuts it short). */
  total: number;
  messages: AsyncIterable<WindowMessage>;
}

/** Messages asked of the server at a time. */
const PULL_BATCH = 4_096;

export async function openEventWindow(
  bus: Bus,
  window: { since: number; until: number },
): Promise<EventWindow> {
  const info = await bus.jsm.streams.info(STREAMS.EVENTS);
  const lastSeq = info.state.last_seq;
  const consumer = await bus.js.consumers.get(STREAMS.EVENTS, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(window.since).toISOString(),
  });
  const pending = (await consumer.info(true)).num_pending;
  if (pending === 0 || lastSeq === 0) return { total: 0, messages: empty() };

  async function* read(): AsyncGenerator<WindowMessage> {
    const messages = await consumer.consume({ max_messages: PULL_BATCH });
    try {
      for await (const msg of messages) {
        if (msg.seq > lastSeq) break;
        const receivedAt = Math.floor(msg.info.timestampNanos / 1e6);
        if (receivedAt > window.until) break;
        yield { seq: msg.seq, subject: msg.subject, data: msg.data, receivedAt };
        if (msg.seq >= lastSeq) break;
      }
    } finally {
      await messages.close();
    }
  }
  return { total: pending, messages: read() };
}

async function* empty(): AsyncGenerator<WindowMessage> {}
