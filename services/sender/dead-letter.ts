// Exhausted and refused deliveries go to `dlq.deliver` (DESIGN.md §2-§3) with the whole attempt
// history: the record's payload is the job as it stands (DeliverJobMessage, attempts included),
// so `cairn dlq retry` can re-drive it; `deliveryId`, `destination` and `attempts` are copied to
// the top level for readers (any NATS tool: the record is JSON).
import type { JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';

import {
  DeliverJobMessage,
  DeliveryAttemptSchema,
  DLQ_RECORD_MAX_BYTES,
  dlqRecordOf,
  DlqRecordSchema,
  publishWithId,
  subjects,
  type Bus,
  type DeliverJob,
} from '../../libs/bus/index.js';

/** The DLQ of the sender (stream DLQ): `dlq.deliver`. */
export const DELIVER_DLQ_STAGE = 'deliver';
export const DELIVER_DLQ_SUBJECT = subjects.dlq(DELIVER_DLQ_STAGE);

export const DeliveryDlqRecordSchema = DlqRecordSchema.extend({
  deliveryId: z.string().optional(),
  destination: z.string().optional(),
  attempts: z.array(DeliveryAttemptSchema).optional(),
});
export type DeliveryDlqRecord = z.output<typeof DeliveryDlqRecordSchema>;

export async function deadLetter(
  bus: Bus,
  msg: JsMsg,
  stage: string,
  job: DeliverJob,
  reason: string,
  detail: string,
  now: number,
): Promise<void> {
  const base = dlqRecordOf(msg, stage, reason, detail, new Date(now));
  const record: DeliveryDlqRecord = {
    ...base,
    payload: Buffer.from(DeliverJobMessage.encode(job)).toString('base64'),
    deliveryId: job.deliveryId,
    destination: job.destination,
    attempts: job.attempts ?? [],
  };
  let bytes = new TextEncoder().encode(JSON.stringify(record));
  if (bytes.byteLength > DLQ_RECORD_MAX_BYTES) {
    // The job as it stands does not fit: keep the message as delivered, cut to fit by
    // dlqRecordOf (`truncated`, `payloadBytes`; `stream` + `seq` name the original).
    bytes = new TextEncoder().encode(JSON.stringify({ ...record, ...base }));
  }
  await publishWithId(bus.js, DELIVER_DLQ_SUBJECT, bytes, `dlq:${base.stream}:${base.seq}`);
}

export function decodeDeliveryDlqRecord(bytes: Uint8Array): DeliveryDlqRecord {
  return DeliveryDlqRecordSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
}
