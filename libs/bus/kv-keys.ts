// The keys of a KV bucket under a filter, from its stream's subject counts: one request. A KV
// `keys()` listing runs a consumer and was seen to stall for tens of seconds while the bucket was
// being written (the senders' circuit reports, every second). For the small key sets read on
// every admin request (circuit reports, leases, a journey's stats); a deleted key is listed too
// (its last record is the delete marker), so read each entry and check its operation.
import type { Bus } from './connection.js';

export async function listKvKeys(bus: Bus, bucket: string, filter: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await bus.jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${filter}` });
  return Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
}
