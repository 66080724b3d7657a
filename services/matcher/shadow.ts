// The shadow step: each input the live handlers applied is applied again to the journey's shadow
// version (`cairn journey publish --shadow`). The live handlers only forward the input to stream
// SHADOW (shadow-stage.ts) once its live decision is committed and its effects published; the
// shadow consumer applies it here, in its own runners, so the live version never waits for a
// shadow nor reads what it wrote.
// Phases as for a live input (STYLE.md rule 15): read the shadow's instance, decide with the
// pure core, commit by CAS, publish — what `asShadow` makes of the commands: journal records
// marked `shadow: true`, `would_send` instead of a delivery, timers that fire back here.
//
// The shadow's instances live in their own key space, `_shadow.<journey>.<user>.<key>` in KV
// `instances` (a journey id never starts with `_`, so no live key or filter meets them), and its
// active keys per user in `_shadow.<user>` of KV `user_instances` (its exit rules read them). It
// reads the live index only to count the user's other active instances for the per-user limit;
// the user's event count of the last second is the one the live version decided with (carried
// by the forwarded input).
//
// A failure here is logged, counted (`cairn_shadow_failures_total`) and thrown to the shadow
// consumer, which retries the input (per user in order, as live) and past CAIRN_MAX_DELIVER, or
// for a corrupt stored value, moves it to `dlq.shadow`: never to the live input, acknowledged
// long before. A redelivered input finds its id in the shadow instance's `applied` list and
// re-publishes the recorded commands, whose ids JetStream drops as duplicates, as for a live
// instance.
import {
  archiveInputId,
  BusCodes,
  BusError,
  BUCKETS,
  casUpdate,
  decodeValue,
  encodeKey,
  instanceCodec,
  instanceKvKey,
  isCasConflict,
  JournalMessage,
  publishWithId,
  removeKvRevision,
  subjects,
  TimerMessage,
  type KvStore,
  type TimerRecord,
  type ValueCodec,
} from '../../libs/bus/index.js';
import {
  asShadow,
  decide,
  eventInstanceKey,
  retentionOf,
  shadowToken,
  unshadowToken,
  type Command,
  type Input,
  type Instance,
  type NormalizedEvent,
} from '../../libs/journey/index.js';
import type { Logger } from '../../libs/telemetry/index.js';
import { Counter, type Registry } from 'prom-client';

import { countActive } from './active-index.js';
import { MAX_CAS_ATTEMPTS, type ApplyContext } from './apply.js';
import { EMPTY_PROFILE, profileSource, type ProfileSource } from './profile.js';
import { retentionInstanceId, retentionToken, type InstanceAt } from './retention.js';

export interface ShadowContext extends ApplyContext {
  profiles: KvStore;
  log: Logger;
}

/** The end reason of a shadow's instance once its version is no longer the shadow (archived,
 * promoted or replaced). */
export const SHADOW_ENDED = 'shadow_ended';

const SHADOW_KEY_PREFIX = '_shadow.';

/** The KV key of a shadow's instance: never a live instance's key, nor under a live filter. */
export const shadowKvKey = (journeyId: string, userKey: string, instanceKey: string): string =>
  `${SHADOW_KEY_PREFIX}${instanceKvKey(journeyId, userKey, instanceKey)}`;

interface ShadowIndex {
  v: 1;
  /** Instance keys (not KV keys) of the user's active shadow instances, as `<journey>\n<key>`. */
  keys: string[];
}

const indexCodec: ValueCodec<ShadowIndex> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ShadowIndex>;
    return { v: 1, keys: Array.isArray(parsed.keys) ? parsed.keys.map(String) : [] };
  },
};

const indexKey = (userKey: string): string => `${SHADOW_KEY_PREFIX}${encodeKey(userKey)}`;

async function shadowKeys(ctx: ShadowContext, journeyId: string, userKey: string): Promise<string[]> {
  const e = await ctx.userInstances.get(indexKey(userKey));
  if (e?.operation !== 'PUT') return [];
  const prefix = `${journeyId}\n`;
  return indexCodec
    .decode(e.value)
    .keys.filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
}

async function syncShadowIndex(ctx: ShadowContext, t: InstanceAt, active: boolean): Promise<void> {
  const entry = `${t.journeyId}\n${t.instanceKey}`;
  await casUpdate<ShadowIndex>(
    ctx.userInstances,
    indexKey(t.userKey),
    (current) => {
      const keys = current?.keys ?? [];
      if (keys.includes(entry) === active) return undefined;
      return { v: 1, keys: active ? [...keys, entry] : keys.filter((k) => k !== entry) };
    },
    { codec: indexCodec, metrics: ctx.metrics, bucket: BUCKETS.userInstances },
  );
}

const FAILURES = 'cairn_shadow_failures_total';
const RECORDS = 'cairn_shadow_records_total';

function counter(registry: Registry, name: string, help: string, labels: string[]): Counter<string> {
  return (
    (registry.getSingleMetric(name) as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames: labels, registers: [registry] })
  );
}

/** Registers the shadow counters (listed on /metrics from the start). */
export function shadowMetrics(registry: Registry): { failures: Counter<string>; records: Counter<string> } {
  return {
    failures: counter(
      registry,
      FAILURES,
      'Attempts of a shadow version on an input that failed (reason error): the shadow consumer retries the input or moves it to dlq.shadow; the live decision is unaffected',
      ['journey', 'reason'],
    ),
    records: counter(registry, RECORDS, 'Journal records written by shadow versions, by type', [
      'journey',
      'type',
    ]),
  };
}

/** Runs `work` for a journey's shadow: a failure is logged and counted, then thrown. */
async function counted(
  ctx: Pick<ShadowContext, 'metrics' | 'log'>,
  journeyId: string,
  fields: Record<string, unknown>,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    shadowMetrics(ctx.metrics.registry).failures.inc({ journey: journeyId, reason: 'error' });
    ctx.log.warn({ err, journeyId, ...fields }, 'shadow version failed on an input');
    throw err;
  }
}

/** The event applied to the shadow version of every journey that has one listening to it. One
 * journey's failure does not keep the others from it; the first is thrown once all have run. */
export async function shadowEvent(
  ctx: ShadowContext,
  event: NormalizedEvent,
  partition: number,
  opts: { profile?: ProfileSource; eventsLastSecond: number },
): Promise<void> {
  const journeyIds = ctx.catalog.shadowsFor(event.name);
  if (journeyIds.length === 0) return;
  const profile = opts.profile ?? profileSource(ctx.profiles, event.userKey);
  const input: Input = { kind: 'event', id: event.messageId, event };
  const failed: unknown[] = [];
  for (const journeyId of journeyIds) {
    await counted(ctx, journeyId, { userKey: event.userKey, inputId: input.id }, async () => {
      const shadow = ctx.catalog.shadow(journeyId);
      if (!shadow) return;
      const base = { journeyId, userKey: event.userKey, partition };
      const key = eventInstanceKey(shadow.doc, event);
      const common = { profile, eventsLastSecond: opts.eventsLastSecond };
      if (key !== undefined) await applyShadow(ctx, { ...base, instanceKey: key }, input, common);
      if ((shadow.index[event.name]?.exits.length ?? 0) === 0) return;
      for (const other of await shadowKeys(ctx, journeyId, event.userKey)) {
        if (other === key) continue;
        await applyShadow(ctx, { ...base, instanceKey: other }, input, { ...common, existingOnly: true });
      }
    }).catch((err: unknown) => failed.push(err));
  }
  if (failed.length > 0) throw failed[0];
}

/** Whether a fired timer is a shadow's (its token carries the shadow prefix). */
export const isShadowTimer = (timer: TimerRecord): boolean => unshadowToken(timer.token) !== undefined;

/** A shadow's fired timer, applied to the shadow's instance it was started for. */
export async function shadowTimer(ctx: ShadowContext, timer: TimerRecord, partition: number): Promise<void> {
  const token = unshadowToken(timer.token)!;
  const t = { journeyId: timer.journeyId, userKey: timer.userKey, instanceKey: timer.instanceKey, partition };
  await counted(ctx, timer.journeyId, { userKey: timer.userKey, token: timer.token }, async () => {
    const retiring = retentionInstanceId(token);
    if (retiring !== undefined) return expireShadowInstance(ctx, t, retiring);
    const input: Input = { kind: 'timer', id: `timer:${token}`, token, at: timer.at };
    await applyShadow(ctx, t, input, {
      profile: profileSource(ctx.profiles, timer.userKey),
      eventsLastSecond: 0,
      existingOnly: true,
    });
  });
}

interface ShadowApplyOptions {
  existingOnly?: boolean;
  onlyVersion?: number;
  profile: ProfileSource;
  eventsLastSecond: number;
}

/** One input applied to one shadow instance: read, decide, commit by CAS, publish. */
async function applyShadow(
  ctx: ShadowContext,
  t: InstanceAt,
  input: Input,
  opts: ShadowApplyOptions,
): Promise<void> {
  const kvKey = shadowKvKey(t.journeyId, t.userKey, t.instanceKey);
  let lastError: unknown;
  for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
    const entry = await ctx.instances.get(kvKey);
    const live = entry?.operation === 'PUT' ? entry : undefined;
    const current = live ? decodeValue(instanceCodec, BUCKETS.instances, kvKey, live.value) : undefined;
    if (!current && opts.existingOnly) return;
    if (opts.onlyVersion !== undefined && current?.version !== opts.onlyVersion) return;
    const shadowVersion = ctx.catalog.shadowVersion(t.journeyId);
    if (current?.status === 'active' && input.kind !== 'archive' && current.version !== shadowVersion) {
      // Its version is no longer the shadow (archived, promoted or replaced): it ends first.
      const end: Input = {
        kind: 'archive',
        id: archiveInputId(current.version),
        at: Date.now(),
        reason: SHADOW_ENDED,
      };
      await applyShadow(ctx, t, end, { ...opts, existingOnly: true, onlyVersion: current.version });
      continue;
    }
    const journey =
      current?.status === 'active'
        ? await ctx.catalog.version(t.journeyId, current.version)
        : ctx.catalog.shadow(t.journeyId);
    if (!journey) return;
    const mayEnter =
      input.kind === 'event' &&
      input.event.name === journey.doc.trigger.event &&
      current?.status !== 'active';
    // The user's other live instances (its own key left out), as the index holds them now.
    const activeInstances = mayEnter
      ? await countActive(
          ctx,
          t.userKey,
          instanceKvKey(t.journeyId, t.userKey, t.instanceKey),
          journey.limits.perUserConcurrentInstances,
        )
      : 0;
    const decision = decide(journey, current, input, {
      now: Date.now(),
      profile: journey.readsProfile ? await opts.profile() : EMPTY_PROFILE,
      user: { activeInstances, eventsLastSecond: opts.eventsLastSecond },
      acceptsEntries: shadowVersion === journey.version,
    });
    if (decision.duplicate) {
      if (current) await syncShadowIndex(ctx, t, current.status === 'active');
      await publishShadow(ctx, t, decision.commands, current);
      return;
    }
    const next = decision.instance;
    if (next && next !== current) {
      const bytes = instanceCodec.encode(next);
      try {
        if (live) await ctx.instances.update(kvKey, bytes, live.revision);
        else await ctx.instances.create(kvKey, bytes);
      } catch (err) {
        if (!isCasConflict(err)) throw err;
        lastError = err;
        ctx.metrics.kvCasConflicts.inc({ bucket: BUCKETS.instances });
        continue;
      }
      const active = next.status === 'active';
      if (active !== (current?.status === 'active')) await syncShadowIndex(ctx, t, active);
      await publishShadow(ctx, t, decision.commands, next);
      return;
    }
    await publishShadow(ctx, t, decision.commands, current);
    return;
  }
  throw new BusError(
    BusCodes.CAS_EXHAUSTED,
    `instances/${kvKey}: still conflicting after ${MAX_CAS_ATTEMPTS} attempts`,
    { cause: lastError },
  );
}

/** Publishes a shadow decision's commands (as `asShadow` makes them): its journal records in one
 * message, its timers under shadow tokens, the retention of an instance that ended. */
async function publishShadow(
  ctx: ShadowContext,
  t: InstanceAt,
  commands: readonly Command[],
  committed: Instance | undefined,
): Promise<void> {
  const shadow = asShadow(commands);
  const journal = shadow.filter((c) => c.kind === 'journal');
  const publishJournal = async (): Promise<void> => {
    if (journal.length === 0) return;
    const res = await publishWithId(
      ctx.bus.lean,
      subjects.journal(t.journeyId, t.partition),
      JournalMessage.encode(journal.map((c) => c.record)),
      journal[0]!.id,
    );
    if (res.duplicate) return;
    const { records } = shadowMetrics(ctx.metrics.registry);
    for (const c of journal) records.inc({ journey: t.journeyId, type: c.record.type });
  };
  await Promise.all([
    publishJournal(),
    ...shadow.map(async (c) => {
      if (c.kind === 'timer.start') {
        await publishTimer(ctx, t, c.token, c.at);
      } else if (
        c.kind === 'instance.end' &&
        committed?.status !== 'active' &&
        committed?.id === c.instanceId
      ) {
        await publishTimer(
          ctx,
          t,
          shadowToken(retentionToken(committed.id)),
          committed.updatedAt + ctx.instanceRetentionMs,
        );
      }
    }),
  ]);
}

async function publishTimer(ctx: ShadowContext, t: InstanceAt, token: string, at: number): Promise<void> {
  const bytes = TimerMessage.encode({
    v: 1,
    kind: 'timer',
    journeyId: t.journeyId,
    userKey: t.userKey,
    instanceKey: t.instanceKey,
    token,
    at,
  });
  const bucket = Math.floor(at / ctx.timerBucketMs);
  await publishWithId(ctx.bus.lean, subjects.timerBucket(t.partition, bucket), bytes, token);
}

/** A shadow instance past its retention: removed (or compacted, `once`) as a live one is. */
async function expireShadowInstance(ctx: ShadowContext, t: InstanceAt, instanceId: string): Promise<void> {
  const kvKey = shadowKvKey(t.journeyId, t.userKey, t.instanceKey);
  const entry = await ctx.instances.get(kvKey);
  if (entry?.operation !== 'PUT') return;
  const current = instanceCodec.decode(entry.value);
  const mode = await ctx.catalog
    .version(current.journeyId, current.version)
    .then((j) => j.doc.entry.mode)
    .catch(() => undefined);
  const verdict = retentionOf(current, instanceId, mode, Date.now());
  if (verdict.action === 'keep') return;
  try {
    if (verdict.action === 'remove') await removeKvRevision(ctx.bus, BUCKETS.instances, entry.revision);
    else await ctx.instances.update(kvKey, instanceCodec.encode(verdict.instance), entry.revision);
  } catch (err) {
    // A newer write at the key (a new entry): that instance has its own retention.
    if (!isCasConflict(err)) throw err;
  }
}
