// KV `instances` (DESIGN.md §3): one journey instance per `<journeyId>.<user>.<instanceKey>`
// (user and instance key base64url-encoded), msgpack of libs/journey's Instance; and the
// journal records the matcher publishes to `journal.<journeyId>.<p>`. Both versioned with a zod
// schema (STYLE.md rule 11).
import { z } from 'zod';

import type { Instance, JournalRecord } from '../journey/index.js';
import { defineMessage } from './codec.js';
import { encodeKey, type ValueCodec } from './kv-cas.js';

/** The fields the matcher relies on; the rest is the core's business (passed through). */
export const InstanceSchema = z.looseObject({
  v: z.literal(1),
  id: z.string(),
  journeyId: z.string(),
  version: z.number().int().positive(),
  userKey: z.string(),
  instanceKey: z.string(),
  status: z.enum(['active', 'completed', 'exited']),
  stepId: z.string().nullable(),
  applied: z.array(z.looseObject({ inputId: z.string(), commands: z.array(z.unknown()) })),
});

const instanceMessage = defineMessage('instance', InstanceSchema);

/** The codec of KV `instances`: the envelope codec of every bus message, typed as the core's Instance. */
export const instanceCodec: ValueCodec<Instance> = {
  encode: (value) => instanceMessage.encode(value as unknown as z.output<typeof InstanceSchema>),
  decode: (bytes) => instanceMessage.decode(bytes) as unknown as Instance,
};

/** The KV key of an instance. */
export const instanceKvKey = (journeyId: string, userKey: string, instanceKey: string): string =>
  `${journeyId}.${encodeKey(userKey)}.${encodeKey(instanceKey)}`;

/** Every instance of a user in a journey: a `kv.keys` filter. */
export const userInstancesFilter = (journeyId: string, userKey: string): string =>
  `${journeyId}.${encodeKey(userKey)}.>`;

export const JournalRecordSchema = z.looseObject({
  v: z.literal(1),
  at: z.number(),
  type: z.string(),
  journeyId: z.string(),
  version: z.number(),
  userKey: z.string(),
  inputId: z.string(),
});

/** One decision's journal records, in order, as one message on JOURNAL (v2). */
export const JournalBatchSchema = z.object({ v: z.literal(2), records: z.array(JournalRecordSchema) });

const journalCodec = defineMessage(
  'journal',
  z.discriminatedUnion('v', [JournalRecordSchema, JournalBatchSchema]),
);

/**
 * matcher -> JOURNAL, on journal.<journeyId>.<p>: the records of one decision in one message
 * (v2; one publish per decision instead of one per record), Nats-Msg-Id = the id of the
 * decision's first journal command. `decode` also reads the single records (v1) written before.
 */
export const JournalMessage = {
  name: journalCodec.name,
  encode: (records: readonly JournalRecord[]): Uint8Array =>
    journalCodec.encode({ v: 2, records: records as unknown as z.output<typeof JournalRecordSchema>[] }),
  decode: (bytes: Uint8Array): JournalRecord[] => {
    const m = journalCodec.decode(bytes);
    return (m.v === 2 ? m.records : [m]) as unknown as JournalRecord[];
  },
};
