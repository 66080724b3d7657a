// KV `instances` (DESIGN.md §3): one journey instance per `<journeyId>.<user>.<instanceKey>`
// (user and instance key base64url-encoded), msgpack of libs/journey's Instance; and the
// journal records the matcher publishes to `journal.<journeyId>.<p>`. Both versioned with a zod
// schema (STYLE.md rule 11).
import { Packr } from 'msgpackr';
import { z } from 'zod';

import type { Instance, JournalRecord } from '../journey/index.js';
import { defineMessage } from './codec.js';
import { BusCodes, BusError } from './errors.js';
import { encodeKey, type ValueCodec } from './kv-cas.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Drops `undefined` members: msgpackr would write them as an extension other readers lack. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutUndefined(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

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

export const instanceCodec: ValueCodec<Instance> = {
  encode: (value) => packr.pack(withoutUndefined(value)),
  decode: (bytes) => {
    let raw: unknown;
    try {
      raw = packr.unpack(bytes);
    } catch (err) {
      throw new BusError(BusCodes.DECODE, `instance: not msgpack (${(err as Error).message})`, {
        cause: err,
      });
    }
    const parsed = InstanceSchema.safeParse(raw);
    if (!parsed.success) {
      throw new BusError(BusCodes.DECODE, `instance: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
        cause: parsed.error,
      });
    }
    return parsed.data as unknown as Instance;
  },
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

const journalCodec = defineMessage('journal', JournalRecordSchema);
/** matcher -> JOURNAL, on journal.<journeyId>.<p>. Nats-Msg-Id = the journal command's id. */
export const JournalMessage = {
  name: journalCodec.name,
  encode: (record: JournalRecord): Uint8Array =>
    journalCodec.encode(withoutUndefined(record) as unknown as z.output<typeof JournalRecordSchema>),
  decode: (bytes: Uint8Array): JournalRecord => journalCodec.decode(bytes) as unknown as JournalRecord,
};
