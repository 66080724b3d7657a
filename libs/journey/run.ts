// The working state of one decide() call: the commands it emits, in order, with deterministic ids.
import type {
  Command,
  CompiledJourney,
  DecideContext,
  Input,
  Instance,
  Instant,
  JournalRecord,
  JournalType,
} from './types.js';

/** One decide() can take at most this many step transitions (a valid journey never needs as many). */
export const MAX_TRANSITIONS = 1000;

export interface Run {
  journey: CompiledJourney;
  ctx: DecideContext;
  input: Input;
  userKey: string;
  /** Prefix of journal command ids: the instance (or would-be instance) the input addresses. */
  scope: string;
  commands: Command[];
  seq: number;
  transitions: number;
  /** The event that led to the current effects: the latency clock of deliveries. */
  cause: { receivedAt: Instant; timestamp: Instant };
  /** The last wait begun in this run; its timer starts at the end if it is still the current one. */
  wait?: { token: string; at: Instant };
}

export function newRun(
  journey: CompiledJourney,
  ctx: DecideContext,
  input: Input,
  userKey: string,
  scope: string,
  cause: Run['cause'],
): Run {
  return {
    journey,
    ctx,
    input,
    userKey,
    scope,
    commands: [],
    seq: 0,
    transitions: 0,
    cause,
  };
}

export type JournalFields = Partial<Pick<JournalRecord, 'stepId' | 'branchId' | 'reason' | 'detail'>>;

/** Appends a journal command; `instance` is the one it concerns (absent for refused entries). */
export function journal(
  run: Run,
  instance: Instance | undefined,
  type: JournalType,
  fields: JournalFields = {},
): void {
  const record: JournalRecord = {
    v: 1,
    at: run.ctx.now,
    type,
    journeyId: run.journey.id,
    version: instance?.version ?? run.journey.version,
    userKey: run.userKey,
    ...(instance && { instanceId: instance.id, instanceKey: instance.instanceKey }),
    ...fields,
    inputId: run.input.id,
  };
  run.commands.push({ kind: 'journal', id: `${run.scope}:${run.input.id}:${run.seq++}`, record });
}

export function emit(run: Run, command: Command): void {
  run.commands.push(command);
}
