// The DLQ record: JSON so that an operator can read it with any NATS tool. Carries the
// original message (payload base64, headers) and why it was given up.
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';

import { publishWithId } from './publish.js';

export const DlqRecordSchema = z.object({
  v: z.literal(1),
  stage: z.string(),
  stream: z.string(),
  subject: z.string(),
  seq: z.number(),
  reason: z.string(),
  detail: z.string().optional(),
  deliveryCount: z.number(),
  payload: z.string(),
  headers: z.record(z.string(), z.array(z.string())),
  at: z.string(),
});

export type DlqRecord = z.infer<typeof DlqRecordSchema>;

export function dlqRecordOf(
  msg: JsMsg,
  stage: string,
  reason: string,
  detail: string | undefined,
  now: Date,
): DlqRecord {
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v;
  const record: DlqRecord = {
    v: 1,
    stage,
    stream: msg.info.stream,
    subject: msg.subject,
    seq: msg.seq,
    reason,
    deliveryCount: msg.info.deliveryCount,
    payload: Buffer.from(msg.data).toString('base64'),
    headers,
    at: now.toISOString(),
  };
  if (detail !== undefined) record.detail = detail;
  return record;
}

/** Publishes once per original message: the msg id is its stream and sequence. */
export async function publishDlq(js: JetStreamClient, dlqSubject: string, record: DlqRecord): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(record));
  await publishWithId(js, dlqSubject, bytes, `dlq:${record.stream}:${record.seq}`);
}

export function decodeDlqRecord(bytes: Uint8Array): DlqRecord {
  return DlqRecordSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
}
