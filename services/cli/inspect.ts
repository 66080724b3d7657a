// `cairn inspect user <userId>`: the user's instances (KV instances, every journey), the step
// each waits in and until when, and the user's recent journal records (last 24 h, newest 50).
import { DeliverPolicy } from '@nats-io/jetstream';

import {
  BUCKETS,
  encodeKey,
  instanceCodec,
  JournalMessage,
  partitionOf,
  STREAMS,
  subjects,
  type Bus,
} from '../../libs/bus/index.js';
import { decodeDeliveryDlqRecord, DELIVER_DLQ_SUBJECT } from '../sender/index.js';
import type { Config } from '../../libs/config/index.js';
import type { Instance, JournalRecord } from '../../libs/journey/index.js';
import { COMMON_OPTIONS, parse, positional } from './args.js';
import { withBus } from './connect.js';
import { CliError, type CliIo, type ExitCode } from './io.js';

export const INSPECT_HELP = `Usage: cairn inspect user <userId> [--json] [--since <hours>]

Shows the user's journey instances (journey, version, status, current step, pending timer)
and their most recent journal records (entered, step, waiting, timer fired, sent, exited...);
a shadow version's records are marked (shadow), its sends journaled as would_send.
Each sent record shows what finally happened to that delivery: delivered (status, time),
dead-lettered (reason, the DLQ record), or not delivered yet (queued or retrying).
The user key is the userId, or the anonymousId of an anonymous user.

Options:
  --json             print { instances, journal, deliveries } as JSON
  --since <hours>    how far back the journal is read (default 24)
  --nats-url <url>   NATS to use (default NATS_URL, then nats://127.0.0.1:4222)
  -h, --help         this help`;

export const JOURNAL_LIMIT = 50;

const OPTIONS = { ...COMMON_OPTIONS, json: { type: 'boolean' }, since: { type: 'string' } } as const;

export interface UserInspection {
  userKey: string;
  partition: number;
  instances: Instance[];
  journal: JournalRecord[];
  /** Stored values that no longer decode (skipped). */
  undecodable: number;
  /** What finally happened to each delivery a `sent` journal record names, by delivery id. */
  deliveries: Record<string, DeliveryOutcome>;
}

/** A delivery's outcome, from the sender's records: KV `sent`, or a `dlq.deliver` record. */
export type DeliveryOutcome =
  | { outcome: 'delivered'; status: number; at: number }
  | { outcome: 'dead-lettered'; reason: string; at: string; dlqSeq: number }
  | { outcome: 'pending' };

/** How many of the newest `dlq.deliver` records are searched for a user's deliveries. */
const DLQ_SCAN = 1_000;

async function deliveryOutcomes(
  bus: Bus,
  journal: JournalRecord[],
): Promise<Record<string, DeliveryOutcome>> {
  const ids = journal
    .filter((r) => r.type === 'sent' && typeof r.detail?.['deliveryId'] === 'string')
    .map((r) => r.detail!['deliveryId'] as string);
  const out: Record<string, DeliveryOutcome> = {};
  if (ids.length === 0) return out;
  const sent = await bus.kv(BUCKETS.sent);
  const open = new Set<string>();
  for (const id of ids) {
    const entry = await sent.get(id);
    if (entry?.operation === 'PUT') {
      try {
        const r = JSON.parse(new TextDecoder().decode(entry.value)) as { at: number; status: number };
        out[id] = { outcome: 'delivered', status: r.status, at: r.at };
        continue;
      } catch {
        // an unreadable record: look for a dead letter, else pending
      }
    }
    open.add(id);
  }
  if (open.size > 0) {
    const info = await bus.jsm.streams.info(STREAMS.DLQ);
    const last = info.state.last_seq;
    for (let seq = last; seq >= Math.max(info.state.first_seq, last - DLQ_SCAN + 1) && open.size > 0; seq--) {
      let m;
      try {
        m = await bus.jsm.streams.getMessage(STREAMS.DLQ, { seq });
      } catch {
        continue;
      }
      if (!m || m.subject !== DELIVER_DLQ_SUBJECT) continue;
      try {
        const r = decodeDeliveryDlqRecord(m.data);
        if (r.deliveryId !== undefined && open.has(r.deliveryId)) {
          out[r.deliveryId] = { outcome: 'dead-lettered', reason: r.reason, at: r.at, dlqSeq: seq };
          open.delete(r.deliveryId);
        }
      } catch {
        // not a delivery record
      }
    }
  }
  for (const id of open) out[id] = { outcome: 'pending' };
  return out;
}

function describeOutcome(o: DeliveryOutcome | undefined): string {
  if (!o) return '';
  if (o.outcome === 'delivered')
    return `  -> delivered (${o.status === 0 ? 'nats' : `http ${o.status}`}) at ${iso(o.at)}`;
  if (o.outcome === 'dead-lettered')
    return `  -> dead-lettered (${o.reason}) at ${o.at}: cairn dlq show ${o.dlqSeq}`;
  return '  -> not delivered yet (queued or retrying)';
}

export async function inspectUser(
  bus: Bus,
  config: Config,
  userKey: string,
  sinceMs: number,
): Promise<UserInspection> {
  const partition = partitionOf(userKey, config.partitions);
  const instances: Instance[] = [];
  let undecodable = 0;
  const kv = await bus.kv(BUCKETS.instances);
  for await (const key of await kv.keys(`*.${encodeKey(userKey)}.*`)) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') continue;
    try {
      instances.push(instanceCodec.decode(entry.value));
    } catch {
      undecodable++;
    }
  }

  const journal: JournalRecord[] = [];
  const consumer = await bus.js.consumers.get(STREAMS.JOURNAL, {
    filter_subjects: subjects.journal('*', partition),
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Date.now() - sinceMs).toISOString(),
  });
  let pending = (await consumer.info(true)).num_pending;
  while (pending > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(pending, 1_000), expires: 2_000 });
    let got = 0;
    for await (const msg of batch) {
      got++;
      pending = msg.info.pending;
      let records: JournalRecord[];
      try {
        records = JournalMessage.decode(msg.data);
      } catch {
        undecodable++;
        continue;
      }
      for (const record of records) {
        if (record.userKey !== userKey) continue;
        journal.push(record);
        if (journal.length > JOURNAL_LIMIT) journal.shift();
      }
    }
    if (got === 0) break;
  }
  return {
    userKey,
    partition,
    instances,
    journal,
    undecodable,
    deliveries: await deliveryOutcomes(bus, journal),
  };
}

const iso = (at: number | undefined): string => (at === undefined ? '-' : new Date(at).toISOString());

export function inspectionLines(found: UserInspection): string[] {
  const lines = [
    `user ${found.userKey} (partition ${found.partition})`,
    '',
    `instances (${found.instances.length}):`,
  ];
  if (found.instances.length === 0) lines.push('  none');
  for (const i of found.instances) {
    const key = i.instanceKey === '_' ? '' : `  key=${i.instanceKey}`;
    const step = i.stepId ? `  step=${i.stepId}` : '';
    const until = i.waitUntil !== undefined ? `  waitUntil=${iso(i.waitUntil)}` : '';
    lines.push(
      `  ${i.journeyId} v${i.version}  ${i.status}${step}${until}${key}  entered=${iso(i.enteredAt)}`,
    );
  }
  lines.push('', `recent journal (last ${found.journal.length}, newest last):`);
  if (found.journal.length === 0) lines.push('  none');
  for (const r of found.journal) {
    const details = [
      r.stepId && `step=${r.stepId}`,
      r.branchId && `branch=${r.branchId}`,
      r.reason && `reason=${r.reason}`,
    ]
      .filter(Boolean)
      .join(' ');
    const key = r.instanceKey === undefined || r.instanceKey === '_' ? '' : `  key=${r.instanceKey}`;
    const deliveryId = r.type === 'sent' ? r.detail?.['deliveryId'] : undefined;
    const outcome = typeof deliveryId === 'string' ? describeOutcome(found.deliveries[deliveryId]) : '';
    lines.push(
      `  ${iso(r.at)}  ${r.journeyId} v${r.version}${r.shadow ? ' (shadow)' : ''}  ${r.type}${details ? `  ${details}` : ''}${key}${outcome}`,
    );
  }
  if (found.undecodable > 0)
    lines.push('', `(${found.undecodable} stored value(s) did not decode and were skipped)`);
  return lines;
}

export async function inspectCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS, 'cairn inspect');
  const [what, ...rest] = positionals;
  if (values.help || what === undefined) {
    io.out(INSPECT_HELP);
    return values.help ? 0 : 1;
  }
  if (what !== 'user')
    throw new CliError(`unknown command \`inspect ${what}\``, 'Use `cairn inspect user <userId>`');
  const userKey = positional(rest, 0, 'userId', 'cairn inspect user <userId>');
  const hours = values.since === undefined ? 24 : Number(values.since);
  if (!Number.isFinite(hours) || hours <= 0)
    throw new CliError(
      `--since must be a number of hours, not ${JSON.stringify(values.since)}`,
      'Use e.g. --since 48',
    );
  const found = await withBus(io, values['nats-url'], (bus, config) =>
    inspectUser(bus, config, userKey, hours * 3_600_000),
  );
  if (values.json) io.out(JSON.stringify(found, null, 2));
  else for (const line of inspectionLines(found)) io.out(line);
  return 0;
}
