// How the counts are stored in KV `cairn_stats`: one value per journey, version and shadow flag
// (`<journey>.v<n>[.shadow]`) holding its counters and the last JOURNAL sequence folded into it,
// and the projection's checkpoint (`_checkpoint`, the last sequence committed everywhere).
import type { ValueCodec } from '../bus/index.js';
import { z } from 'zod';

import type { VersionCounters } from './counters.js';

/** The projection's checkpoint key (never a journey id: ids are a-z, 0-9 and '-'). */
export const CHECKPOINT_KEY = '_checkpoint';

const counts = z.record(z.string(), z.number());

const StepCountersSchema = z.object({
  entered: z.number(),
  waiting: z.number(),
  left: z.number(),
  branches: counts.optional(),
  sends: z.record(z.string(), z.object({ sent: z.number(), failed: z.number() })).optional(),
});

const CountersSchema = z.object({
  entered: z.number(),
  refused: counts,
  completed: z.number(),
  exited: counts,
  steps: z.record(z.string(), StepCountersSchema),
});

export const StatsValueSchema = z.object({
  v: z.literal(1),
  journeyId: z.string(),
  version: z.number().int().positive(),
  shadow: z.boolean(),
  /** The last JOURNAL stream sequence folded in: a record at or below it is never counted again. */
  seq: z.number().int().nonnegative(),
  total: CountersSchema,
  hours: z.record(z.string(), CountersSchema),
});
export type StatsValue = z.output<typeof StatsValueSchema> & VersionCounters;

export const CheckpointSchema = z.object({ v: z.literal(1), seq: z.number().int().nonnegative() });
export type Checkpoint = z.output<typeof CheckpointSchema>;

const json = <T>(schema: z.ZodType<T>): ValueCodec<T> => ({
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => schema.parse(JSON.parse(new TextDecoder().decode(bytes))),
});

export const statsValueCodec = json(StatsValueSchema) as ValueCodec<StatsValue>;
export const checkpointCodec = json(CheckpointSchema);
