// KV `cairn_state`: ingest's watermark and the timer service's per-partition progress. Versioned
// JSON values (STYLE.md rule 11) with zod schemas, shared by their writer and their readers.
import { z } from 'zod';

import type { Bus } from './connection.js';
import type { ValueCodec } from './kv-cas.js';
import { BUCKETS } from './topology.js';

export const WATERMARK_KEY = 'watermark';
export const timerProgressKey = (p: number): string => `timer.${p}`;

/** The receive time (epoch ms) up to which ingest has routed every event. */
export const WatermarkSchema = z.object({ v: z.literal(1), at: z.number() });
export type Watermark = z.output<typeof WatermarkSchema>;

/** The last bucket of partition p whose timers have all fired (and which has been purged). */
export const TimerProgressSchema = z.object({ v: z.literal(1), bucket: z.number().int() });
export type TimerProgress = z.output<typeof TimerProgressSchema>;

function jsonCodec<T>(schema: z.ZodType<T>): ValueCodec<T> {
  return {
    encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
    decode: (bytes) => schema.parse(JSON.parse(new TextDecoder().decode(bytes))),
  };
}

export const watermarkCodec: ValueCodec<Watermark> = jsonCodec(WatermarkSchema);
export const timerProgressCodec: ValueCodec<TimerProgress> = jsonCodec(TimerProgressSchema);

/** The current watermark (epoch ms), or undefined when ingest has never written one. */
export async function readWatermark(bus: Bus): Promise<number | undefined> {
  const kv = await bus.kv(BUCKETS.state);
  const entry = await kv.get(WATERMARK_KEY);
  if (!entry || entry.operation !== 'PUT') return undefined;
  return watermarkCodec.decode(entry.value).at;
}
