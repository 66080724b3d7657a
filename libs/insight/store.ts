// How the counts are stored in KV `cairn_stats`: one value per journey, version and shadow flag
// (`<journey>.v<n>[.shadow]`) holding its counters and the last JOURNAL sequence folded into it,
// and the projection's checkpoint (`_checkpoint`, the last sequence committed everywhere).
import type { ValueCodec } from '../bus/index.js';
import { z } from 'zod';

import type { VersionCounters } from './counters.js';

/** The projection's checkpoint key (never a journey id: ids are a-z, 0-9 and '-'). */
export const CHECKPOINT_KEY = '_checkpoint';

// Stored compactly: zero counts and empty maps are left out (`compact`), and read back as 0 / {}.
const counts = z.record(z.string(), z.number()).default({});
const count = z.number().default(0);

const StepCountersSchema = z.object({
  entered: count,
  waiting: count,
  left: count,
  branches: z.record(z.string(), z.number()).optional(),
  sends: z.record(z.string(), z.object({ sent: count, failed: count })).optional(),
});

const CountersSchema = z.object({
  entered: count,
  refused: counts,
  completed: count,
  exited: counts,
  steps: z.record(z.string(), StepCountersSchema).default({}),
});

export const StatsValueSchema = z.object({
  v: z.literal(1),
  journeyId: z.string(),
  version: z.number().int().positive(),
  shadow: z.boolean(),
  /** The last JOURNAL stream sequence folded in: a record at or below it is never counted again. */
  seq: z.number().int().nonnegative(),
  total: CountersSchema,
  /** By hour number (`floor(at / 1 h)`), the last 48 hours. */
  hours: z.record(z.string(), CountersSchema).default({}),
  /** By UTC day number (`floor(at / 1 d)`), the last 8 days. */
  days: z.record(z.string(), CountersSchema).default({}),
});
export type StatsValue = z.output<typeof StatsValueSchema> & VersionCounters;

/** A copy of a JSON-like value without its zero numbers and empty objects. */
export function compact(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const c = compact(v);
    if (c === 0 || (typeof c === 'object' && c !== null && Object.keys(c).length === 0)) continue;
    out[k] = c;
  }
  return out;
}

export const CheckpointSchema = z.object({ v: z.literal(1), seq: z.number().int().nonnegative() });
export type Checkpoint = z.output<typeof CheckpointSchema>;

const json = <T>(schema: z.ZodType<T>): ValueCodec<T> => ({
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => schema.parse(JSON.parse(new TextDecoder().decode(bytes))),
});

/** The value itself is never compacted away: `v`, ids and `seq` stay (a `seq` of 0 is never stored). */
export const statsValueCodec: ValueCodec<StatsValue> = {
  encode: (value) => {
    const { total, hours, days, ...head } = value;
    return new TextEncoder().encode(
      JSON.stringify({ ...head, total: compact(total), hours: compact(hours), days: compact(days) }),
    );
  },
  decode: (bytes) => StatsValueSchema.parse(JSON.parse(new TextDecoder().decode(bytes))),
};
export const checkpointCodec = json(CheckpointSchema);
