// Follows ingest's watermarks (KV `cairn_state` key `watermark`, one per partition) with a KV watch.
import {
  BUCKETS,
  WATERMARK_KEY,
  watermarkCodec,
  watermarkOf,
  type Bus,
  type Watermark,
} from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

export interface WatermarkWatch {
  /** Partition p's latest watermark (epoch ms); -Infinity until ingest has written one. */
  current(partition: number): number;
  stop(): Promise<void>;
}

export async function watchWatermark(bus: Bus, log: Logger, onChange: () => void): Promise<WatermarkWatch> {
  const kv = await bus.kv(BUCKETS.state);
  let latest: Watermark | undefined;
  // Never backwards per partition (a restarted ingest may publish lower values for a while).
  const highest = new Map<number, number>();
  const iter = await kv.watch({ key: WATERMARK_KEY });
  const done = (async () => {
    for await (const entry of iter) {
      if (entry.operation !== 'PUT') continue;
      try {
        latest = watermarkCodec.decode(entry.value);
        onChange();
      } catch (err) {
        log.error({ err }, 'bad watermark value ignored');
      }
    }
  })();
  done.catch((err: unknown) => log.error({ err }, 'watermark watch failed'));
  return {
    current: (partition) => {
      const at = latest ? watermarkOf(latest, partition) : -Infinity;
      const before = highest.get(partition) ?? -Infinity;
      if (at <= before) return before;
      highest.set(partition, at);
      return at;
    },
    async stop() {
      iter.stop();
      await done.catch(() => undefined);
    },
  };
}
