// Retention of ended instances (DESIGN.md §5.10): when an instance ends, the matcher schedules its
// retention as a timer (TIMERS, `retain:<instanceId>`, due `CAIRN_INSTANCE_RETENTION` after the
// end). The timer service fires it onto match.<p>.timer like any timer, so it is applied in the
// user's order among their inputs. Then, in phases (STYLE.md rule 15): read the instance at the
// key, decide with libs/journey's retentionOf (nothing unless it is still that ended instance),
// commit — remove its revision (every_time), or replace it by CAS with a compact record that
// still refuses re-entry (once) —, effects: the user's active index no longer lists it.
import {
  instanceCodec,
  instanceKvKey,
  isCasConflict,
  removeKvRevision,
  subjects,
  TimerMessage,
  publishWithId,
  BUCKETS,
  type Bus,
  type KvStore,
} from '../../libs/bus/index.js';
import { retentionOf, type Instance, type Retention } from '../../libs/journey/index.js';
import { Counter, type Registry } from 'prom-client';

import { UnknownVersionError, type JourneyCatalog } from './catalog.js';
import { syncActive, type ActiveIndexContext } from './active-index.js';

/** Token prefix of retention timers (journey wait tokens are hex hashes). */
export const RETENTION_TOKEN_PREFIX = 'retain:';

export const retentionToken = (instanceId: string): string => `${RETENTION_TOKEN_PREFIX}${instanceId}`;

/** The instance id a retention timer is for, or undefined for a journey timer. */
export function retentionInstanceId(token: string): string | undefined {
  return token.startsWith(RETENTION_TOKEN_PREFIX) ? token.slice(RETENTION_TOKEN_PREFIX.length) : undefined;
}

export interface InstanceAt {
  journeyId: string;
  userKey: string;
  instanceKey: string;
  partition: number;
}

/** Schedules the retention of an instance that ended: due `instanceRetentionMs` after its end
 * (its last update), or at `at`. */
export async function scheduleRetention(
  ctx: { bus: Bus; timerBucketMs: number; instanceRetentionMs: number },
  t: InstanceAt,
  ended: Instance,
  at = ended.updatedAt + ctx.instanceRetentionMs,
): Promise<void> {
  const token = retentionToken(ended.id);
  const bytes = TimerMessage.encode({
    v: 1,
    kind: 'timer',
    journeyId: t.journeyId,
    userKey: t.userKey,
    instanceKey: t.instanceKey,
    token,
    at,
  });
  await publishWithId(
    ctx.bus.lean,
    subjects.timerBucket(t.partition, Math.floor(at / ctx.timerBucketMs)),
    bytes,
    token,
  );
}

/**
 * Whether an ended instance a decision read is past its retention and was never retired: it
 * ended before retention existed (or its timer was lost). Its retention is then scheduled now.
 */
export function retentionOverdue(instance: Instance | undefined, retentionMs: number, now: number): boolean {
  return (
    instance !== undefined &&
    instance.status !== 'active' &&
    instance.compactedAt === undefined &&
    instance.updatedAt + retentionMs < now
  );
}

export interface RetentionContext extends ActiveIndexContext {
  bus: Bus;
  instances: KvStore;
  catalog: JourneyCatalog;
  metrics: ActiveIndexContext['metrics'] & { registry: Registry };
}

export type Expired = Retention['action'] | 'conflict';

/** Applies a due retention timer to the instance at `t`. */
export async function expireInstance(
  ctx: RetentionContext,
  t: InstanceAt,
  instanceId: string,
): Promise<Expired> {
  // Read.
  const kvKey = instanceKvKey(t.journeyId, t.userKey, t.instanceKey);
  const entry = await ctx.instances.get(kvKey);
  const current = entry?.operation === 'PUT' ? instanceCodec.decode(entry.value) : undefined;
  // Decide.
  const mode = current ? await entryModeOf(ctx.catalog, current) : undefined;
  const verdict = retentionOf(current, instanceId, mode, Date.now());
  if (verdict.action === 'keep' || !entry) return 'keep';
  // Commit.
  try {
    if (verdict.action === 'remove') await removeKvRevision(ctx.bus, BUCKETS.instances, entry.revision);
    else await ctx.instances.update(kvKey, instanceCodec.encode(verdict.instance), entry.revision);
  } catch (err) {
    if (isCasConflict(err)) {
      ctx.metrics.kvCasConflicts.inc({ bucket: BUCKETS.instances });
      return 'conflict';
    }
    throw err;
  }
  // Effects: an ended instance is not in the index; a crash between an end and its index write
  // could have left it there.
  await syncActive(ctx, t.userKey, kvKey, false);
  countRetention(ctx.metrics.registry, verdict.action);
  return verdict.action;
}

/** The entry mode of the instance's own version; undefined when that version is gone. */
async function entryModeOf(
  catalog: JourneyCatalog,
  instance: Instance,
): Promise<'once' | 'every_time' | undefined> {
  try {
    return (await catalog.version(instance.journeyId, instance.version)).doc.entry.mode;
  } catch (err) {
    if (err instanceof UnknownVersionError) return undefined;
    throw err;
  }
}

const RETENTION_METRIC = 'cairn_instances_retired_total';

/** The retention counter, registered once per registry (the matcher registers it at start). */
export function instancesRetired(registry: Registry): Counter<'action'> {
  return (
    (registry.getSingleMetric(RETENTION_METRIC) as Counter<'action'> | undefined) ??
    new Counter({
      name: RETENTION_METRIC,
      help: 'Ended instances past CAIRN_INSTANCE_RETENTION: removed (every_time) or compacted (once)',
      labelNames: ['action'],
      registers: [registry],
    })
  );
}

/** Counts ended instances removed or compacted by retention. */
function countRetention(registry: Registry, action: 'remove' | 'compact'): void {
  instancesRetired(registry).inc({ action: action === 'remove' ? 'removed' : 'compacted' });
}
