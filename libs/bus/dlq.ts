// The DLQ record: JSON so that an operator can read it with any NATS tool. Carries the
// original message (payload base64, headers) and why it was given up. A record always fits in
// one NATS message: a payload (or headers) too large for it is cut, the record says so
// (`truncated`, `payloadBytes`), and `stream` + `seq` name the original message.
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';

import { publishWithId } from './publish.js';
import { STREAMS } from './topology.js';

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
  /** Set when the payload or the headers were cut to make the record fit. */
  truncated: z.boolean().optional(),
  /** The original payload's size in bytes, when `truncated`. */
  payloadBytes: z.number().optional(),
});

export type DlqRecord = z.infer<typeof DlqRecordSchema>;

/** The largest DLQ record written (JSON bytes); the runner lowers it to the server's max payload. */
export const DLQ_RECORD_MAX_BYTES = 128 * 1024;
/** `detail` is cut to this many characters. */
export const DLQ_DETAIL_MAX_CHARS = 4_096;

const encoder = new TextEncoder();
const jsonBytes = (value: unknown): number => encoder.encode(JSON.stringify(value)).byteLength;

function headersOf(msg: JsMsg): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v;
  return headers;
}

/**
 * The record of `msg`, at most `maxBytes` of JSON: the payload is kept whole when it fits, else
 * its first bytes are kept (base64), and headers are dropped when they alone do not fit.
 */
export function dlqRecordOf(
  msg: JsMsg,
  stage: string,
  reason: string,
  detail: string | undefined,
  now: Date,
  maxBytes: number = DLQ_RECORD_MAX_BYTES,
): DlqRecord {
  const record: DlqRecord = {
    v: 1,
    stage,
    stream: msg.info.stream,
    subject: msg.subject,
    seq: msg.seq,
    reason,
    deliveryCount: msg.info.deliveryCount,
    payload: '',
    headers: headersOf(msg),
    at: now.toISOString(),
  };
  if (detail !== undefined) {
    record.detail =
      detail.length > DLQ_DETAIL_MAX_CHARS ? `${detail.slice(0, DLQ_DETAIL_MAX_CHARS - 3)}...` : detail;
  }
  const data = msg.data;
  // Room for what `truncated` and `payloadBytes` add, whether or not they are set.
  const overhead = jsonBytes({ truncated: true, payloadBytes: data.byteLength });
  let rest = maxBytes - jsonBytes(record) - overhead;
  if (rest < 0 && Object.keys(record.headers).length > 0) {
    record.headers = {};
    record.truncated = true;
    rest = maxBytes - jsonBytes(record) - overhead;
  }
  // base64 writes 4 characters per 3 bytes.
  const room = Math.max(0, Math.floor(rest / 4) * 3);
  if (data.byteLength <= room) {
    record.payload = Buffer.from(data).toString('base64');
  } else {
    record.payload = Buffer.from(data.subarray(0, room)).toString('base64');
    record.truncated = true;
  }
  if (record.truncated) record.payloadBytes = data.byteLength;
  return record;
}

/** Publishes once per original message: the msg id is its stream and sequence. */
export async function publishDlq(js: JetStreamClient, dlqSubject: string, record: DlqRecord): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(record));
  await publishWithId(js, dlqSubject, bytes, `dlq:${record.stream}:${record.seq}`);
}

export function decodeDlqRecord(bytes: Uint8Array): DlqRecord {
  return DlqRecordSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
}

/** The stages with a DLQ subject `dlq.<stage>` (the only ones the services may publish on). */
export const DLQ_STAGES = ['ingest', 'matcher', 'shadow', 'deliver', 'timer'] as const;

/**
 * Messages stored per DLQ stage, from the stream's subject counts (one stream info request, no
 * consumer; nats-server 2.9+). A stage with nothing stored counts 0; subjects other than those of
 * DLQ_STAGES are left out.
 */
export async function dlqDepths(jsm: JetStreamManager): Promise<Map<string, number>> {
  const info = await jsm.streams.info(STREAMS.DLQ, { subjects_filter: 'dlq.*' });
  const depths = new Map<string, number>(DLQ_STAGES.map((stage) => [stage, 0]));
  for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
    const stage = subject.slice('dlq.'.length);
    if (depths.has(stage)) depths.set(stage, count);
  }
  return depths;
}
