// `cairn dlq list|show|retry|drop`: inspect the dead letters of stream DLQ and re-drive them.
// A `dlq.deliver` record carries the delivery job with its attempt history; `retry` puts it back
// on its deliver.<p> subject with a fresh retry budget (the history is kept).
import { unpack } from 'msgpackr';
import { stringify as toYaml } from 'yaml';

import {
  DeliverJobMessage,
  getDestination,
  publishWithId,
  STREAMS,
  type Bus,
  type DeliverJob,
} from '../../libs/bus/index.js';
import { decodeDeliveryDlqRecord, DELIVER_DLQ_SUBJECT, type DeliveryDlqRecord } from '../sender/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { CliError, CodedError, type CliIo, type ExitCode } from './io.js';

export const DLQ_HELP = `Usage: cairn dlq <command> [options]

Commands:
  list [--stage <stage>] [--limit <n>]   the dead letters, newest last (default: the last 100)
  show <seq>                             one record, with its job and attempt history
  retry <seq>...                         re-drive: back to the subject it failed on, then removed
  drop <seq>...                          remove records

Stages: deliver (failed deliveries), ingest, matcher, timer (undecodable timers). Records are kept 30 days.

Options:
  --stage <stage>    only dlq.<stage>
  --limit <n>        list at most n records (default 100)
  --json             print JSON
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

/** Each command's own help (`cairn <group> <command> --help`), with an example. */
export const DLQ_COMMAND_HELP: Record<string, string> = {
  list: `Usage: cairn dlq list [--stage <stage>] [--limit <n>] [--json]

The dead letters, newest last: sequence, time, subject, reason and, for deliveries, the
destination, delivery id and attempts.

Options:
  --stage <stage>    only dlq.<stage>: deliver, ingest, matcher, shadow or timer
  --limit <n>        at most n records (default 100)
  --json             print JSON
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn dlq list --stage deliver --limit 20`,
  show: `Usage: cairn dlq show <seq> [--json]

One record, with the failed message decoded: a delivery's job with its attempt history; an
ingest, matcher or timer message as JSON (decoded from JSON or msgpack). Times are ISO 8601.
--json prints the record as stored (epoch milliseconds, payload in base64).

Options:
  --json             print JSON
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn dlq show 12`,
  retry: `Usage: cairn dlq retry <seq>...

Re-drives records: each message goes back to the subject it failed on (a delivery with a
fresh retry budget, its history kept), then the record is removed.

Example:
  cairn dlq retry 12 13

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
  drop: `Usage: cairn dlq drop <seq>...

Removes records.

Example:
  cairn dlq drop 12

Options:
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)`,
};

const OPTIONS = {
  ...COMMON_OPTIONS,
  stage: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A DLQ record with its sequence and subject (`dlq.<stage>`). */
export interface Stored {
  seq: number;
  subject: string;
  record: DeliveryDlqRecord;
}

export const DLQ_NOT_FOUND = 'CAIRN_E_DLQ_NOT_FOUND';
export const DLQ_DESTINATION_DISABLED = 'CAIRN_E_DLQ_DESTINATION_DISABLED';
export const DLQ_RECORD_TRUNCATED = 'CAIRN_E_DLQ_RECORD_TRUNCATED';

/** Record `seq` of stream DLQ, or undefined when there is none (or it does not decode). */
export async function readRecord(bus: Bus, seq: number): Promise<Stored | undefined> {
  let m;
  try {
    m = await bus.jsm.streams.getMessage(STREAMS.DLQ, { seq });
  } catch {
    return undefined;
  }
  if (!m) return undefined;
  try {
    return { seq, subject: m.subject, record: decodeDeliveryDlqRecord(m.data) };
  } catch {
    return undefined;
  }
}

/** The newest `limit` records (of `dlq.<stage>` only, with a stage), oldest first. */
export async function readAll(
  bus: Bus,
  stage: string | undefined,
  limit: number,
  keep: (s: Stored) => boolean = () => true,
): Promise<Stored[]> {
  const info = await bus.jsm.streams.info(STREAMS.DLQ);
  const out: Stored[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.last_seq; seq >= info.state.first_seq && out.length < limit; seq--) {
    const s = await readRecord(bus, seq);
    if (s && (stage === undefined || s.subject === `dlq.${stage}`) && keep(s)) out.push(s);
  }
  return out.reverse();
}

/** The delivery job a `dlq.deliver` record holds, with its attempt history. */
export function jobOf(record: DeliveryDlqRecord): DeliverJob | undefined {
  try {
    return DeliverJobMessage.decode(Buffer.from(record.payload, 'base64'));
  } catch {
    return undefined;
  }
}

function line(s: Stored): string {
  const r = s.record;
  const what =
    r.deliveryId !== undefined
      ? `  ${r.destination ?? '?'}  delivery=${r.deliveryId}  attempts=${r.attempts?.length ?? 0}`
      : '';
  return `${s.seq}  ${r.at}  ${s.subject}  ${r.reason}${what}`;
}

/** A record's message for reading: JSON, else msgpack, decoded; undefined when neither. */
export function decodePayload(base64: string, truncated: boolean): unknown {
  if (truncated) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    // not JSON: msgpack, as the matcher and timer messages are
  }
  try {
    return unpack(bytes) as unknown;
  } catch {
    return undefined;
  }
}

const EPOCH_MS_MIN = Date.UTC(2000, 0, 1);
const EPOCH_MS_MAX = Date.UTC(2200, 0, 1);

/** Epoch-millisecond times (`at`, `…At`, `timestamp`, `notBefore`) as ISO 8601, at any depth. */
export function isoTimes(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => isoTimes(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isoTimes(v, k)]));
  }
  const timeKey = key === 'at' || key.endsWith('At') || /timestamp$/i.test(key) || key === 'notBefore';
  if (timeKey && typeof value === 'number' && value >= EPOCH_MS_MIN && value < EPOCH_MS_MAX) {
    return new Date(value).toISOString();
  }
  return value;
}

function parseSeqs(raw: string[], usage: string): number[] {
  if (raw.length === 0) throw new CliError('missing <seq>', `Usage: ${usage}`);
  return raw.map((x) => {
    if (!/^\d+$/.test(x) || Number(x) < 1) {
      throw new CliError(
        `${JSON.stringify(x)} is not a DLQ sequence`,
        'Take the numbers from `cairn dlq list`',
      );
    }
    return Number(x);
  });
}

const notFound = (seq: number): CodedError =>
  new CodedError(DLQ_NOT_FOUND, `no DLQ record ${seq}`, 'List them with `cairn dlq list`', 'not_found');

/** Re-drives record `seq` (back to the subject it failed on), then removes it; the subject. */
export async function retryRecord(bus: Bus, seq: number): Promise<string> {
  const s = await readRecord(bus, seq);
  if (!s) throw notFound(seq);
  const subject = await redrive(bus, s);
  await bus.jsm.streams.deleteMessage(STREAMS.DLQ, seq);
  return subject;
}

/** Removes record `seq`. */
export async function dropRecord(bus: Bus, seq: number): Promise<void> {
  if (!(await readRecord(bus, seq))) throw notFound(seq);
  await bus.jsm.streams.deleteMessage(STREAMS.DLQ, seq);
}

export async function dlqCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn dlq');
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out((command !== undefined && DLQ_COMMAND_HELP[command]) || DLQ_HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const url = values['nats-url'];
  switch (command) {
    case 'list': {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new CliError(`--limit must be a whole number >= 1`, 'Use e.g. --limit 20');
      }
      const all = await withBus(io, url, (bus) => readAll(bus, values.stage, limit));
      if (values.json) {
        io.out(
          JSON.stringify(
            all.map((s) => ({ dlqSeq: s.seq, dlqSubject: s.subject, ...s.record })),
            null,
            2,
          ),
        );
        return 0;
      }
      if (all.length === 0) io.out('no dead letters');
      for (const s of all) io.out(line(s));
      return 0;
    }
    case 'show': {
      const [seq] = parseSeqs([positional(rest, 0, 'seq', 'cairn dlq show <seq>')], 'cairn dlq show <seq>');
      const s = await withBus(io, url, (bus) => readRecord(bus, seq!));
      if (!s) throw notFound(seq!);
      const job = s.subject === DELIVER_DLQ_SUBJECT ? jobOf(s.record) : undefined;
      const shown = { dlqSeq: s.seq, dlqSubject: s.subject, ...s.record, ...(job && { job }) };
      if (values.json) {
        io.out(JSON.stringify(shown, null, 2));
        return 0;
      }
      // For a person: times as ISO 8601, the failed message decoded instead of base64.
      const { payload, ...fields } = shown;
      const message = job ? undefined : decodePayload(payload, s.record.truncated === true);
      const body = job ? {} : message !== undefined ? { message } : { payload };
      io.out(toYaml(isoTimes({ ...fields, ...body })).trimEnd());
      return 0;
    }
    case 'retry': {
      const seqs = parseSeqs(rest, 'cairn dlq retry <seq>...');
      await withBus(io, url, async (bus) => {
        for (const seq of seqs) {
          const subject = await retryRecord(bus, seq);
          io.out(`re-driven ${seq} -> ${subject}`);
        }
      });
      return 0;
    }
    case 'drop': {
      const seqs = parseSeqs(rest, 'cairn dlq drop <seq>...');
      await withBus(io, url, async (bus) => {
        for (const seq of seqs) {
          await dropRecord(bus, seq);
          io.out(`dropped ${seq}`);
        }
      });
      return 0;
    }
    default:
      throw new CliError(`unknown command \`dlq ${command}\``, 'See `cairn dlq --help`');
  }
}

/** Publishes the record's message back where it failed; returns the subject. */
async function redrive(bus: Bus, s: Stored): Promise<string> {
  const r = s.record;
  const msgId = `redrive:${s.seq}`;
  if (s.subject === DELIVER_DLQ_SUBJECT) {
    const job = jobOf(r);
    if (job) {
      const dest = await getDestination(bus, job.destination);
      if (dest?.disabled !== undefined) {
        throw new CodedError(
          DLQ_DESTINATION_DISABLED,
          `destination ${job.destination} is disabled (${dest.disabled.reason})`,
          `Fix it, store it again with \`cairn destination put\`, then retry ${s.seq}`,
          'conflict',
        );
      }
      // A fresh budget; the history stays, and attempt numbers continue.
      const again: DeliverJob = { ...job, attempt: (job.attempts?.length ?? 0) + 1 };
      delete again.firstAttemptAt;
      delete again.notBefore;
      await publishWithId(bus.js, r.subject, DeliverJobMessage.encode(again), msgId);
      return r.subject;
    }
  }
  if (r.truncated) {
    throw new CodedError(
      DLQ_RECORD_TRUNCATED,
      `record ${s.seq} holds only part of its message (${r.payloadBytes ?? '?'} bytes, too large for a record)`,
      `The original is message ${r.seq} of stream ${r.stream} while that stream keeps it; drop ${s.seq} when done`,
      'conflict',
    );
  }
  await publishWithId(bus.js, r.subject, Buffer.from(r.payload, 'base64'), msgId);
  return r.subject;
}
