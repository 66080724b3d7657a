// messageId dedupe beyond the streams' duplicate window (Segment keeps at least 24 h of ids):
// KV `ingest_dedupe` maps encodeKey(messageId) to the EVENTS sequence that first carried it, and
// expires entries after CAIRN_INGEST_DEDUPE_WINDOW. A redelivery of that same message is not a
// repeat; another message with the id is.
import { BUCKETS, encodeKey, isCasConflict, type Bus } from '../../libs/bus/index.js';

export const DEDUPE_BUCKET = BUCKETS.ingestDedupe;

const utf8 = { encoder: new TextEncoder(), decoder: new TextDecoder() };

export interface DedupeStore {
  /** True when `messageId` was first stored at another sequence within the window. */
  isRepeat(messageId: string, seq: number): Promise<boolean>;
}

/** The dedupe store on the bucket provisioning created (libs/bus topology); undefined when the
 * window is 0. */
export async function openDedupeStore(
  bus: Bus,
  opts: { windowMs: number },
): Promise<DedupeStore | undefined> {
  if (opts.windowMs <= 0) return undefined;
  const kv = await bus.store(BUCKETS.ingestDedupe);
  return {
    async isRepeat(messageId, seq) {
      const key = encodeKey(messageId);
      const mark = utf8.encoder.encode(String(seq));
      try {
        await kv.create(key, mark);
        return false;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') {
        // Expired or purged between the two calls: mark it now.
        await kv.put(key, mark);
        return false;
      }
      return utf8.decoder.decode(entry.value) !== String(seq);
    },
  };
}
