// One input applied to one instance: load, decide with the pure core, commit by CAS on the
// revision, then publish the commands (commit, then effects: DESIGN.md §2). A CAS conflict
// reloads and decides again, a bounded number of times (STYLE.md rule 7).

import {
  archiveInputId,
  BusCodes,
  BusError,
  BUCKETS,
  decodeKey,
  decodeValue,
  instanceCodec,
  instanceKvKey,
  isCasConflict,
  type KvStore,
} from '../../libs/bus/index.js';
import { decide, type CompiledJourney, type Input, type Instance } from '../../libs/journey/index.js';
import type { JourneyCatalog } from './catalog.js';
import { activeKeys, countActive, syncActive } from './active-index.js';
import { publishCommands, type EffectsContext } from './effects.js';
import { EMPTY_PROFILE, type ProfileSource } from './profile.js';

export const MAX_CAS_ATTEMPTS = 5;

export interface ApplyContext extends EffectsContext {
  instances: KvStore;
  /** Each user's active instance keys (active-index.ts). */
  userInstances: KvStore;
  catalog: JourneyCatalog;
}

export interface Target {
  journeyId: string;
  userKey: string;
  instanceKey: string;
  partition: number;
}

export interface ApplyOptions {
  /** Only apply to an existing instance (exit rules over a user's other instances). */
  existingOnly?: boolean;
  /** The version to decide with when there is no instance (default: the active one). */
  fallback?: CompiledJourney;
  /** Only apply to an instance of this version (an archive notice). */
  onlyVersion?: number;
  /** The user's profile, read only when the journey version reads it. */
  profile: ProfileSource;
  eventsLastSecond: number;
}

export type Applied = 'none' | 'written' | 'unchanged' | 'duplicate';

function load(kvKey: string, bytes: Uint8Array | undefined): Instance | undefined {
  return bytes ? decodeValue(instanceCodec, BUCKETS.instances, kvKey, bytes) : undefined;
}

export async function applyInput(
  ctx: ApplyContext,
  t: Target,
  input: Input,
  opts: ApplyOptions,
): Promise<Applied> {
  const kvKey = instanceKvKey(t.journeyId, t.userKey, t.instanceKey);
  let lastError: unknown;
  // Attempt 0 is a guess that the instance is new (see assumesNewInstance): no read; it ends in a
  // create, or the input is applied again from a real read.
  let assumeNew = assumesNewInstance(ctx, t, input, opts);
  for (let attempt = assumeNew ? 0 : 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
    const entry = assumeNew ? null : await ctx.instances.get(kvKey);
    const live = entry?.operation === 'PUT' ? entry : undefined;
    const current = load(kvKey, live?.value);
    if (!current && opts.existingOnly) return 'none';
    if (opts.onlyVersion !== undefined && current?.version !== opts.onlyVersion) return 'none';
    if (
      current?.status === 'active' &&
      input.kind !== 'archive' &&
      ctx.catalog.isArchived(t.journeyId, current.version)
    ) {
      // Its version was archived and no notice reached it yet: it ends first, then the input
      // meets the ended instance (and may enter the active version).
      await applyInput(
        ctx,
        t,
        { kind: 'archive', id: archiveInputId(current.version), at: Date.now() },
        { ...opts, onlyVersion: current.version, existingOnly: true },
      );
      continue;
    }
    // A running instance stays on its version; an ended one is re-entered on the active one.
    const journey =
      current?.status === 'active'
        ? await ctx.catalog.version(t.journeyId, current.version)
        : (opts.fallback ??
          ctx.catalog.active(t.journeyId) ??
          (current ? await ctx.catalog.version(t.journeyId, current.version) : undefined));
    if (!journey) return 'none';
    const mayEnter =
      input.kind === 'event' &&
      input.event.name === journey.doc.trigger.event &&
      current?.status !== 'active';
    const activeInstances = mayEnter
      ? await countActive(ctx, t.userKey, kvKey, journey.limits.perUserConcurrentInstances)
      : 0;
    const decision = decide(journey, current, input, {
      now: Date.now(),
      profile: journey.readsProfile ? await opts.profile() : EMPTY_PROFILE,
      user: { activeInstances, eventsLastSecond: opts.eventsLastSecond },
      acceptsEntries: ctx.catalog.activeVersion(t.journeyId) === journey.version,
    });
    if (assumeNew && !decision.instance) {
      // Refused or ignored: that needs the real instance (if any) to be right.
      assumeNew = false;
      continue;
    }
    if (decision.duplicate) {
      // Its change was committed before a crash: the index may not have followed yet.
      if (current) await syncActive(ctx, t.userKey, kvKey, current.status === 'active');
      await publishCommands(ctx, t, decision.commands, current);
      return 'duplicate';
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
        // The guessed-new instance exists after all: read it (not a conflict between writers).
        if (assumeNew) assumeNew = false;
        else ctx.metrics.kvCasConflicts.inc({ bucket: 'instances' });
        continue;
      }
      const active = next.status === 'active';
      if (active !== (current?.status === 'active')) await syncActive(ctx, t.userKey, kvKey, active);
      await publishCommands(ctx, t, decision.commands, next);
      return 'written';
    }
    await publishCommands(ctx, t, decision.commands, current);
    return 'unchanged';
  }
  throw new BusError(
    BusCodes.CAS_EXHAUSTED,
    `instances/${kvKey}: still conflicting after ${MAX_CAS_ATTEMPTS} attempts`,
    { cause: lastError },
  );
}

/**
 * Whether to skip the read of the instance: for the trigger event of an `every_time` journey,
 * whose key (the `uniqueBy` value) is nearly always new — a new cart, form or application. The
 * decision is made as for no instance and committed with `create`; an instance that exists
 * after all makes the create fail, and the input is applied again from a real read (one extra
 * request in that case, one request fewer in the common one).
 */
function assumesNewInstance(ctx: ApplyContext, t: Target, input: Input, opts: ApplyOptions): boolean {
  if (input.kind !== 'event' || opts.existingOnly || opts.onlyVersion !== undefined) return false;
  const journey = opts.fallback ?? ctx.catalog.active(t.journeyId);
  return journey?.doc.entry.mode === 'every_time' && journey.doc.trigger.event === input.event.name;
}

/** The instance keys of a user's active instances in a journey (from the index: one read). */
export async function userInstanceKeys(
  ctx: ApplyContext,
  journeyId: string,
  userKey: string,
): Promise<string[]> {
  const prefix = `${journeyId}.`;
  const out: string[] = [];
  for (const key of await activeKeys(ctx, userKey)) {
    if (!key.startsWith(prefix)) continue;
    const decoded = decodeKey(key.split('.').pop() ?? '');
    if (decoded !== undefined) out.push(decoded);
    else {
      // A hashed instance key (a very long uniqueBy value): the instance holds the value.
      const entry = await ctx.instances.get(key);
      if (entry?.operation === 'PUT') out.push(instanceCodec.decode(entry.value).instanceKey);
    }
  }
  return out;
}
