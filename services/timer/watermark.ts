// Follows ingest's watermarks (KV `cairn_state` key `watermark`, one per partition) with a KV
// watch, and reads the key once a second as well. The watch is an ordered push consumer with the
// client's heartbeat settings: when the node holding it dies, it is made again only after two
// missed heartbeats (10–15 s), and every due timer would wait that long; the read bounds the
// stall to about a second. A stale read only lags: the newest revision wins, and a partition's
// watermark never moves backwards.
import {
  BUCKETS,
  WATERMARK_KEY,
  watermarkCodec,
  watermarkOf,
  type Bus,
  type Watermark,
} from '../../libs/bus/index.js';
import type { Logger } from '../../libs/telemetry/index.js';

/** Period of the read that backs the watch up. */
export const WATERMARK_READ_MS = 1_000;

export interface WatermarkWatch {
  /** Partition p's latest watermark (epoch ms); -Infinity until ingest has written one. */
  current(partition: number): number;
  stop(): Promise<void>;
}

export async function watchWatermark(bus: Bus, log: Logger, onChange: () => void): Promise<WatermarkWatch> {
  const kv = await bus.kv(BUCKETS.state);
  const store = await bus.store(BUCKETS.state);
  let latest: Watermark | undefined;
  let revision = 0;
  // Never backwards per partition (a restarted ingest may publish lower values for a while).
  const highest = new Map<number, number>();
  const offer = (value: Uint8Array, rev: number): void => {
    if (rev <= revision) return;
    try {
      latest = watermarkCodec.decode(value);
      revision = rev;
      onChange();
    } catch (err) {
      log.error({ err }, 'bad watermark value ignored');
    }
  };
  const iter = await kv.watch({ key: WATERMARK_KEY });
  const done = (async () => {
    for await (const entry of iter) if (entry.operation === 'PUT') offer(entry.value, entry.revision);
  })();
  done.catch((err: unknown) => log.error({ err }, 'watermark watch failed'));
  let reading = false;
  const reader = setInterval(() => {
    if (reading) return;
    reading = true;
    store
      .get(WATERMARK_KEY)
      .then((entry) => {
        if (entry && entry.operation === 'PUT') offer(entry.value, entry.revision);
      })
      .catch((err: unknown) => log.debug({ err }, 'watermark read failed; the watch goes on'))
      .finally(() => (reading = false));
  }, WATERMARK_READ_MS);
  reader.unref();
  return {
    current: (partition) => {
      const at = latest ? watermarkOf(latest, partition) : -Infinity;
      const before = highest.get(partition) ?? -Infinity;
      if (at <= before) return before;
      highest.set(partition, at);
      return at;
    },
    async stop() {
      clearInterval(reader);
      iter.stop();
      await done.catch(() => undefined);
    },
  };
}
