// The journey vocabulary shared by the schema, the compiler, the pure core and the simulator.
// Everything here is plain data: JSON-serializable, versioned where it is persisted.

/** Milliseconds since the Unix epoch. */
export type Instant = number;
/** A duration in milliseconds. */
export type Millis = number;

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

export type ConditionOp =
  'eq' | 'in' | 'neq' | 'nin' | 'exists' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'startsWith';

/**
 * One normalized condition: `path op value`. A document's `where: { a.b: 1, c: { gte: 2, lt: 5 } }`
 * normalizes to three conditions combined with AND.
 */
export interface Condition {
  /** A dotted path. Within a trigger/exit/hold branch `where`, it is read from the event itself
   * (`properties.total`); within a data split, from the journey context (`entry.properties.total`,
   * `events.<branch>.properties.x`, `profile.traits.plan`, `profile.audiences`, `journey.id`). */
  path: string;
  op: ConditionOp;
  value: unknown;
}

// ---------------------------------------------------------------------------------------------
// The document (what the schema produces after parsing and normalization)
// ---------------------------------------------------------------------------------------------

export interface Trigger {
  event: string;
  where: Condition[];
  /** The user must be in this audience when the event is processed. */
  audience?: string;
}

export type Entry = { mode: 'every_time'; uniqueBy: string } | { mode: 'once' };

export interface ExitRule {
  event: string;
  where: Condition[];
  /** Only exits the instance whose key the event carries (`uniqueBy` of an every_time journey). */
  sameKey: boolean;
}

export interface Exit {
  rules: ExitRule[];
  /** The single optional send made before an instance exits by a rule. */
  send?: SendSpec;
}

/** What a send builds and where it goes; shared by `send` steps and the exit send. */
export interface SendSpec {
  /** Destination ids, 1..5. */
  to: string[];
  /** Event name of the default track payload, up to 73 characters. */
  event: string;
  /** Destination key -> context path. When absent, the default Segment-compatible track payload. */
  payload?: Record<string, string>;
  /** Profile traits to include at send time (in `properties` of the default payload). */
  traits: string[];
}

interface StepBase {
  id: string;
  name?: string;
}

export interface HoldBranch {
  id: string;
  event: string;
  where: Condition[];
  /** Back to the start of this hold, refreshing the context (at most `limits.maxRestarts` times). */
  restart: boolean;
  /** Resolved at compile time: the step after this branch (null: the instance completes). */
  next?: string;
}

export interface HoldStep extends StepBase {
  type: 'hold_until';
  /** Also match a qualifying event received up to this long before the hold began. */
  lookback?: Millis;
  branches: HoldBranch[];
  timeout: { after: Millis; next?: string };
}

export type DelayStep = StepBase & {
  type: 'delay';
  next?: string;
} & ({ after: Millis } | { until: string; offset: Millis });

export interface DataSplitBranch {
  id: string;
  where: Condition[];
  next?: string;
}

export interface DataSplitStep extends StepBase {
  type: 'data_split';
  branches: DataSplitBranch[];
  else?: string;
}

export interface RandomSplitBranch {
  id: string;
  weight: number;
  next?: string;
}

export interface RandomSplitStep extends StepBase {
  type: 'random_split';
  sticky: boolean;
  branches: RandomSplitBranch[];
}

export interface SendStep extends StepBase, SendSpec {
  type: 'send';
  next?: string;
}

export interface ExitStep extends StepBase {
  type: 'exit';
}

export type Step = HoldStep | DelayStep | DataSplitStep | RandomSplitStep | SendStep | ExitStep;
export type StepType = Step['type'];

/** Declared shape of an event, used by the correlation check (`uniqueBy` carried by hold events). */
export interface EventDeclaration {
  /** Property paths the event carries, e.g. `properties.cart_id`. */
  carries: string[];
}

export interface JourneyDocument {
  id: string;
  name: string;
  description?: string;
  trigger: Trigger;
  entry: Entry;
  exit: Exit;
  steps: Step[];
  /** Optional declarations or examples of the events the journey reads. */
  events?: Record<string, EventDeclaration>;
}

// ---------------------------------------------------------------------------------------------
// Limits (Segment's as defaults; configurable)
// ---------------------------------------------------------------------------------------------

export interface Limits {
  maxSteps: number; // 50
  maxNameLength: number; // 73
  maxHoldBranches: number; // 9
  maxDataSplitBranches: number; // 9
  maxRandomSplitBranches: number; // 5
  maxExitRules: number; // 10
  maxDestinationsPerSend: number; // 5
  maxPayloadMappings: number; // 100
  maxPayloadBytes: number; // 32 * 1024
  maxRestarts: number; // 100
  minDuration: Millis; // 1 s
  maxDuration: Millis; // 182 d
  maxUniqueByNameLength: number; // 500
  maxUniqueByValueLength: number; // 150
  perUserEventsPerSecond: number; // 25
  perUserConcurrentInstances: number; // 25
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export interface ValidationIssue {
  /** Stable code, listed in docs/errors.md: `CAIRN_E_JOURNEY_*` (errors) or `CAIRN_W_JOURNEY_*` (warnings). */
  code: string;
  severity: 'error' | 'warning';
  /** Where in the document: `steps[2].branches[0].next`. */
  path: string;
  message: string;
  /** How to fix it. */
  hint: string;
  /** 1-based position in the source text, when the document was parsed from text. */
  line?: number;
  column?: number;
}

// ---------------------------------------------------------------------------------------------
// The compiled journey
// ---------------------------------------------------------------------------------------------

export interface CompiledJourney {
  id: string;
  version: number;
  /** Stable content hash of the normalized document (hex). */
  hash: string;
  doc: JourneyDocument;
  /** Steps by id, with every `next` resolved (null: the instance completes there). */
  steps: Record<string, Step>;
  /** The first step (null: a trigger-only journey completes at once). */
  start: string | null;
  /** Event name -> who listens to it in this journey. */
  index: Record<string, EventInterest>;
  limits: Limits;
  /** Whether any rule, condition or payload of this version reads the profile (its traits or
   * audiences): when not, the matcher does not read it. */
  readsProfile: boolean;
}

export interface EventInterest {
  entry: boolean;
  /** Hold steps with a branch on this event. */
  holds: string[];
  /** Indexes into `doc.exit.rules`. */
  exits: number[];
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

export type EventType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

/** A Segment-Spec event after ingest's normalization. */
export interface NormalizedEvent {
  type: EventType;
  /** The name journeys match: a track's `event`; the type itself for the other types. */
  name: string;
  userKey: string;
  userId?: string;
  anonymousId?: string;
  messageId: string;
  /** The client's timestamp (corrected for clock skew by ingest). */
  timestamp: Instant;
  /** When the event entered Cairn. Durations run on this clock. */
  receivedAt: Instant;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context?: Record<string, unknown>;
}

export type Input =
  | { kind: 'event'; /** Unique input id (the messageId). */ id: string; event: NormalizedEvent }
  | {
      kind: 'timer';
      /** Unique input id (derived from the token). */
      id: string;
      /** The wait token the timer was started with. */
      token: string;
      /** The instant the timer was due. */
      at: Instant;
    }
  | {
      kind: 'archive';
      id: string;
      at: Instant;
      /** The end reason journaled (default `version_archived`; a shadow's instances: `shadow_ended`). */
      reason?: string;
    };

export interface Profile {
  traits: Record<string, unknown>;
  audiences: string[];
}

export interface DecideContext {
  /** The processing time (for journal records); durations use input times, never this. */
  now: Instant;
  profile: Profile;
  /** Per-user counters at the moment of the input. */
  user: { activeInstances: number; eventsLastSecond: number };
  /** False for a drained or archived version: no new entries. */
  acceptsEntries: boolean;
}

// ---------------------------------------------------------------------------------------------
// The instance (persisted in KV `instances`)
// ---------------------------------------------------------------------------------------------

export interface EventSnapshot {
  name: string;
  messageId: string;
  timestamp: Instant;
  receivedAt: Instant;
  properties: Record<string, unknown>;
}

export interface Instance {
  v: 1;
  /** Deterministic id: a hash of journey id, user key, instance key and entry message id. */
  id: string;
  journeyId: string;
  version: number;
  userKey: string;
  /** The `uniqueBy` value (every_time) or `_` (once). */
  instanceKey: string;
  /** The entry event's identity, for the payload's `userId` / `anonymousId` (userKey is either). */
  userId?: string;
  anonymousId?: string;
  /** How many times an instance entered at this key (re-entry after completion). */
  epoch: number;
  status: 'active' | 'completed' | 'exited';
  enteredAt: Instant;
  updatedAt: Instant;
  /** The step the instance waits in (hold or delay), null when ended. */
  stepId: string | null;
  /** When the current wait began / ends. */
  waitStartedAt?: Instant;
  waitUntil?: Instant;
  /** Token of the pending timer; a fired timer with another token is ignored. */
  waitToken?: string;
  /** Visits per step id (part of the delivery id). */
  visits: Record<string, number>;
  /** Restart passes per hold step id. */
  restarts: Record<string, number>;
  /** Journey context: the entry event and each captured event by name and `<event> - <branch>` alias. */
  context: { entry: EventSnapshot; events: Record<string, EventSnapshot> };
  /** Events seen while not in a hold that might want them (for `lookback`), bounded. */
  recent: EventSnapshot[];
  /** The last applied inputs and the commands they produced (redelivery re-publishes them):
   * 8 ids, the newest input's commands and older ones' within 16 KiB (decide.ts rememberApplied). */
  applied: Array<{ inputId: string; commands: Command[] }>;
  /** Outcome once ended. */
  endReason?: string;
  /** When retention reduced the ended instance to a compact record (retain.ts): a `once`
   * journey's refusal of re-entry and the ids of its last inputs, without their data. */
  compactedAt?: Instant;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

export interface StepKey {
  journeyId: string;
  version: number;
  stepId: string;
}

export type JournalType =
  | 'entered'
  | 'refused'
  | 'step'
  | 'branch'
  | 'waiting'
  | 'timer.fired'
  | 'restarted'
  | 'sent'
  | 'send.failed'
  | 'exited'
  | 'completed'
  | 'ignored'
  /** A shadow version's send: journaled with its payload instead of delivered. */
  | 'would_send';

export interface JournalRecord {
  v: 1;
  at: Instant;
  type: JournalType;
  journeyId: string;
  version: number;
  userKey: string;
  instanceId?: string;
  instanceKey?: string;
  stepId?: string;
  branchId?: string;
  inputId: string;
  /** Machine-readable reason: `filter_failed`, `audience_missing`, `already_entered`,
   * `per_user_limit`, `rate_limited`, `not_accepting_entries`, `exit_rule`, `timeout`, `payload_too_large`, ... */
  reason?: string;
  detail?: Record<string, unknown>;
  /** Written by a shadow version (`cairn journey publish --shadow`): never acted on. */
  shadow?: true;
}

export type Command =
  | {
      kind: 'timer.start';
      /** Deterministic id for `Nats-Msg-Id`. */
      id: string;
      journeyId: string;
      userKey: string;
      instanceKey: string;
      token: string;
      at: Instant;
    }
  | {
      kind: 'deliver';
      id: string;
      /** Stable across retries: instance, step, visit (and destination). */
      deliveryId: string;
      destination: string;
      stepKey: StepKey;
      payload: Record<string, unknown>;
      /** The receive time of the event that led here (latency SLO clock). */
      eventReceivedAt: Instant;
      eventTimestamp: Instant;
    }
  | { kind: 'journal'; id: string; record: JournalRecord }
  | {
      kind: 'instance.end';
      id: string;
      instanceId: string;
      status: 'completed' | 'exited';
      reason: string;
    };

export interface Decision {
  instance: Instance | undefined;
  commands: Command[];
  /** True when the input was already applied: `commands` are the recorded ones to re-publish. */
  duplicate: boolean;
}
