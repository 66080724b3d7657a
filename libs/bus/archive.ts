// Archiving a version ends its running instances (DESIGN.md §1 "Versions"). Whoever archives
// (the CLI, after the head says so) sweeps the version's instances and sends each an archive
// notice on `match.<p>.archive`, so that the matcher ends it in the partition's order, after
// whatever input of the user came first. The notice id is deterministic (a repeat is dropped)
// and the matcher also ends an archived version's instance on its next input, so a sweep that
// is interrupted loses nothing: run it again, or let the instance's next timer do it.
import { z } from 'zod';

import { defineMessage } from './codec.js';
import type { Bus } from './connection.js';
import { instanceCodec } from './instances.js';
import { partitionOf } from './partition.js';
import { publishWithId } from './publish.js';
import { BUCKETS } from './topology.js';

/** sweep -> matcher, on match.<p>.archive. Nats-Msg-Id = `archive:<journey>:v<n>:<user>:<key>`. */
export const ArchiveNoticeSchema = z.object({
  v: z.literal(1),
  kind: z.literal('archive'),
  journeyId: z.string(),
  version: z.number(),
  userKey: z.string(),
  instanceKey: z.string(),
  /** Unix ms of the archive. */
  at: z.number(),
});
export type ArchiveNotice = z.output<typeof ArchiveNoticeSchema>;
export const ArchiveNoticeMessage = defineMessage('match.archive', ArchiveNoticeSchema);

export const matchArchiveSubject = (p: number): string => `match.${p}.archive`;

/** The input id of an archive notice: one per version, so a repeat is a duplicate. */
export const archiveInputId = (version: number): string => `archive:v${version}`;

export interface SweepOptions {
  journeyId: string;
  version: number;
  partitions: number;
  now?: number;
}

/** Sends an archive notice to every active instance of the version; returns how many. */
export async function endArchivedInstances(bus: Bus, opts: SweepOptions): Promise<number> {
  const kv = await bus.kv(BUCKETS.instances);
  const at = opts.now ?? Date.now();
  let sent = 0;
  const keys: string[] = [];
  for await (const key of await kv.keys(`${opts.journeyId}.>`)) keys.push(key);
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry?.operation !== 'PUT') continue;
    const instance = instanceCodec.decode(entry.value);
    if (instance.status !== 'active' || instance.version !== opts.version) continue;
    const { instanceKey } = instance;
    const notice: ArchiveNotice = {
      v: 1,
      kind: 'archive',
      journeyId: opts.journeyId,
      version: opts.version,
      userKey: instance.userKey,
      instanceKey,
      at,
    };
    await publishWithId(
      bus.js,
      matchArchiveSubject(partitionOf(instance.userKey, opts.partitions)),
      ArchiveNoticeMessage.encode(notice),
      `archive:${opts.journeyId}:v${opts.version}:${instance.userKey}:${instanceKey}`,
    );
    sent++;
  }
  return sent;
}
