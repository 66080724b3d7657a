// decide(): the pure core. One input (an event, a timer that fired, an archive notice) and the
// instance it addresses in, the next instance and the commands to publish out.
//
// Choices made here (docs/journeys.md repeats them for users):
// - Time is input time: an event's receivedAt, a timer's due instant. Journal records carry
//   ctx.now (processing time); waits, deadlines and payload timestamps use input time.
// - Deadline first (DESIGN.md guarantee 5): before an event is applied, every wait whose
//   deadline is <= the event's receivedAt ends at its deadline, as if its timer had fired; the
//   event then meets the new state. So a hold branch only takes events received before the
//   deadline, and an ended instance can be re-entered (every_time) by that same event.
// - Order within an event: pending deadlines, exit rules, the hold's branches, lookback memory,
//   then the entry verdict when the event is the trigger.
// - Refused entries change nothing and journal one 'refused' record. The checks run in this
//   order: filter_failed, not_accepting_entries, audience_missing, unique_by_missing,
//   already_entered, rate_limited, per_user_limit. The per-second rate applies to entries only:
//   dropping a follow-up event (a purchase) would send a wrong "abandoned" nudge.
// - A trigger event for a key whose instance is active is refused with already_entered and is
//   still applied to that instance (its exit rules and hold).
// - Restart cap: past `maxRestarts`, a restart event is refused (reason restart_limit) and
//   ignored: the hold keeps its deadline and the context is not refreshed.
// - An exit step ends the instance as 'completed' (reason exit_step); the end of a path too
//   (reason end_of_path). Exit rules end it as 'exited' (exit_rule); archiving a version as
//   'exited' (version_archived).
// - Timers: a fired timer whose token is not the instance's current one is journaled 'ignored'
//   (stale_timer), one that arrives before the deadline likewise (early_timer). A timer starts
//   only for the wait an input leaves the instance in, not for waits it passed through.
// - Commands carry deterministic ids: deliver = its delivery id, timer.start = its token,
//   instance.end = `<instance>:end`, journal = `<scope>:<input id>:<n>`.
// - An input changes the instance only if it has an effect; the changed instance records the
//   input id and its commands (last 8 ids; the newest input's commands, older ones' within 16 KiB:
//   rememberApplied), so a redelivery returns them with duplicate: true.
import { advance, completeWait } from './advance.js';
import { eventInstanceKey, snapshotOf } from './context.js';
import { endInstance } from './end.js';
import { enter, refusalOf, refuse } from './entry.js';
import { applyExitRules } from './exit.js';
import { hashParts } from './hash.js';
import { applyHoldMatch, matchHoldBranch } from './hold.js';
import { rememberRecent } from './recent.js';
import { emit, journal, newRun, type Run } from './run.js';
import type { CompiledJourney, Decision, DecideContext, Input, Instance, NormalizedEvent } from './types.js';
import { utf8Length } from './utf8.js';

/** How many applied inputs an instance remembers for redelivery. */
export const APPLIED_MEMORY = 8;
/** UTF-8 bytes (as JSON) of recorded commands kept besides those of the newest input. */
export const APPLIED_COMMANDS_BYTES = 16 * 1024;

type Applied = Instance['applied'][number];

/**
 * The instance an input works on: a copy of `instance` sharing with it only what decide() never
 * mutates. The steps set top-level fields and write into `visits`, `restarts`, `context.events`
 * and `recent`, so those are copied one level; event snapshots, the entry snapshot and `applied`
 * (replaced, never written into) are shared. The input instance is never changed: a test runs
 * every step type on a deep-frozen instance.
 */
function workingCopy(instance: Instance): Instance {
  return {
    ...instance,
    visits: { ...instance.visits },
    restarts: { ...instance.restarts },
    context: { entry: instance.context.entry, events: { ...instance.context.events } },
    recent: [...instance.recent],
  };
}

/**
 * The applied memory with `entry` added: the last APPLIED_MEMORY input ids; the newest keeps its
 * commands (a crash between its commit and its effects re-publishes them), older ones while their
 * commands total APPLIED_COMMANDS_BYTES at most, newest first, and only their id beyond. A user's
 * inputs are applied one at a time, each one's effects published before the next is decided, so
 * an older input's commands are only a second chance; its id keeps a redelivery a duplicate.
 */
export function rememberApplied(applied: readonly Applied[], entry: Applied): Applied[] {
  const kept = [...applied, entry].slice(-APPLIED_MEMORY);
  let bytes = 0;
  for (let i = kept.length - 2; i >= 0; i--) {
    const a = kept[i]!;
    if (a.commands.length === 0) continue;
    bytes = bytes > APPLIED_COMMANDS_BYTES ? bytes : bytes + utf8Length(JSON.stringify(a.commands));
    if (bytes > APPLIED_COMMANDS_BYTES) kept[i] = { inputId: a.inputId, commands: [] };
  }
  return kept;
}

const unchanged = (instance: Instance | undefined, run: Run): Decision => ({
  instance,
  commands: run.commands,
  duplicate: false,
});

/** Records the input on the changed instance and emits the timer of the wait it is left in. */
function finish(run: Run, instance: Instance): Decision {
  // A wait that ended within this input (or an instance that ended) cleared or replaced the token.
  if (run.wait && instance.waitToken === run.wait.token) {
    emit(run, {
      kind: 'timer.start',
      id: run.wait.token,
      journeyId: instance.journeyId,
      userKey: instance.userKey,
      instanceKey: instance.instanceKey,
      token: run.wait.token,
      at: run.wait.at,
    });
  }
  instance.updatedAt = run.ctx.now;
  instance.applied = rememberApplied(instance.applied, { inputId: run.input.id, commands: run.commands });
  return { instance, commands: run.commands, duplicate: false };
}

/** Ends every wait whose deadline is at or before `t`. */
function catchUp(run: Run, instance: Instance, t: number): void {
  while (instance.status === 'active' && instance.waitUntil !== undefined && instance.waitUntil <= t) {
    completeWait(run, instance, instance.waitUntil);
  }
}

/** An event for an active instance; returns whether it changed the instance (a refusal does not). */
function applyToActive(
  run: Run,
  instance: Instance,
  event: NormalizedEvent,
  key: string | undefined,
): boolean {
  if (applyExitRules(run, instance, event, key)) return true;
  const keyMatches = key === instance.instanceKey;
  // An active instance always waits in a step.
  const step = run.journey.steps[String(instance.stepId)];
  let changed = false;
  const branch =
    step?.type === 'hold_until' ? matchHoldBranch(step, event.name, event, keyMatches) : undefined;
  if (step?.type === 'hold_until' && branch !== undefined) {
    const flow = applyHoldMatch(run, instance, step, branch, snapshotOf(event), event.receivedAt);
    if (!flow.wait) advance(run, instance, flow.next, event.receivedAt);
    changed = true;
  } else if (keyMatches) {
    changed = rememberRecent(run.journey, instance, snapshotOf(event));
  }
  const effect = changed || run.commands.length > 0;
  if (instance.status === 'active' && event.name === run.journey.doc.trigger.event && keyMatches) {
    const refusal = refusalOf(run, instance, event, key);
    if (refusal) refuse(run, refusal.reason, refusal.detail);
  }
  return effect;
}

function decideEvent(run: Run, instance: Instance | undefined, event: NormalizedEvent): Decision {
  const key = eventInstanceKey(run.journey.doc, event);
  let current = instance;
  let changed = false;
  if (instance?.status === 'active') {
    current = workingCopy(instance);
    catchUp(run, current, event.receivedAt);
    run.cause = { receivedAt: event.receivedAt, timestamp: event.timestamp };
    changed = run.commands.length > 0;
    if (current.status === 'active') {
      return applyToActive(run, current, event, key) ? finish(run, current) : unchanged(instance, run);
    }
  }
  // No instance, or an ended one (possibly just now): an entry attempt at this key.
  const isTrigger = event.name === run.journey.doc.trigger.event;
  if (!isTrigger || (current !== undefined && current.instanceKey !== key)) {
    return changed && current ? finish(run, current) : unchanged(instance, run);
  }
  const refusal = refusalOf(run, current, event, key);
  if (refusal) {
    refuse(run, refusal.reason, refusal.detail);
    return changed && current ? finish(run, current) : unchanged(instance, run);
  }
  return finish(run, enter(run, current, event, String(key)));
}

function decideTimer(run: Run, instance: Instance | undefined, token: string, at: number): Decision {
  if (instance?.status !== 'active' || instance.waitToken !== token || instance.waitUntil === undefined) {
    journal(run, instance, 'ignored', { reason: 'stale_timer', detail: { token } });
    return unchanged(instance, run);
  }
  const due = instance.waitUntil;
  if (at < due) {
    journal(run, instance, 'ignored', { reason: 'early_timer', detail: { token, due } });
    return unchanged(instance, run);
  }
  const next = workingCopy(instance);
  completeWait(run, next, due);
  return finish(run, next);
}

function decideArchive(run: Run, instance: Instance | undefined, reason: string): Decision {
  if (instance?.status !== 'active') return unchanged(instance, run);
  const next = workingCopy(instance);
  // The step it waited in: stats count it as having left that step.
  endInstance(run, next, 'exited', reason, next.stepId !== null ? { stepId: next.stepId } : {});
  return finish(run, next);
}

/** The pure core: the input applied to the instance it addresses (undefined: none yet at this key). */
export function decide(
  journey: CompiledJourney,
  instance: Instance | undefined,
  input: Input,
  ctx: DecideContext,
): Decision {
  const recorded = instance?.applied.find((a) => a.inputId === input.id);
  if (instance && recorded) return { instance, commands: recorded.commands, duplicate: true };
  switch (input.kind) {
    case 'event': {
      const { event } = input;
      const key = eventInstanceKey(journey.doc, event);
      const scope = instance?.id ?? hashParts(journey.id, event.userKey, key ?? '');
      const cause = { receivedAt: event.receivedAt, timestamp: event.timestamp };
      return decideEvent(newRun(journey, ctx, input, event.userKey, scope, cause), instance, event);
    }
    case 'timer': {
      const scope = instance?.id ?? hashParts(journey.id, 'timer', input.token);
      const run = newRun(journey, ctx, input, instance?.userKey ?? '', scope, {
        receivedAt: input.at,
        timestamp: input.at,
      });
      return decideTimer(run, instance, input.token, input.at);
    }
    case 'archive': {
      const scope = instance?.id ?? hashParts(journey.id, 'archive', input.id);
      const run = newRun(journey, ctx, input, instance?.userKey ?? '', scope, {
        receivedAt: input.at,
        timestamp: input.at,
      });
      return decideArchive(run, instance, input.reason ?? 'version_archived');
    }
  }
}
