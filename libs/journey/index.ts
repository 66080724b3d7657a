// libs/journey: the journey language (schema, parsing, validation) and the pure engine.
export type * from './types.js';
export { JourneyCodes, JourneyError, formatIssues, type JourneyCode } from './errors.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export { parseDuration, tryParseDuration, formatDuration } from './duration.js';
export {
  CONDITION_OPS,
  normalizeWhere,
  evaluateConditions,
  testCondition,
  readPath,
  deepEqual,
  parseInstant,
} from './conditions.js';
export { conditionsExclusive } from './exclusive.js';
export { CONTEXT_ROOTS, contextPathProblem } from './validate-context.js';
export { journeyDocumentSchema, stepSchema, STEP_TYPES } from './schema.js';
export {
  validateJourney,
  assertValidJourney,
  type ValidateOptions,
  type ValidationResult,
} from './validate.js';
export { parseJourney, type ParseOptions } from './parse.js';
// The engine: compiler, pure core, context, payloads, simulator.
export {
  compile,
  buildEventIndex,
  buildIndex,
  journeyHash,
  nextsOf,
  type CompileOptions,
} from './compile.js';
export { decide, APPLIED_COMMANDS_BYTES, APPLIED_MEMORY, rememberApplied } from './decide.js';
export { MAX_TRANSITIONS } from './run.js';
export { MAX_RECENT } from './recent.js';
export { compactEnded, retentionOf, type Retention } from './retain.js';
export { type RefusalReason } from './entry.js';
export {
  ONCE_KEY,
  aliasOf,
  contextRoot,
  eventInstanceKey,
  journeyContextPayload,
  snapshotOf,
  type ContextRoot,
} from './context.js';
export {
  EXIT_SEND_STEP_ID,
  buildSendPayload,
  deliveryIdOf,
  payloadBytes,
  previewSend,
  stepKeyOf,
  type PreviewInput,
  type PreviewResult,
  type SendPayloadArgs,
} from './payload.js';
export { canonicalJson, fnv1a64Hex, hashParts, unitOf } from './hash.js';
export { forEachUtf8Byte, utf8Length } from './utf8.js';
export { pickRandomBranch, splitPoint, type SplitDraw } from './random-split.js';
export { EngineCodes, type EngineCode } from './engine-codes.js';
export {
  simulate,
  makeEvent,
  SimulationError,
  type EventSpec,
  type SimulateOptions,
  type Timeline,
  type TimelineEntry,
  type TimelineSend,
  type TimelineTimer,
  Simulator,
  type SimulatedSend,
  type SimulatedTimer,
  type SimulatorHooks,
  type SimulatorOptions,
} from './simulate.js';
export { closest, didYouMean } from './suggest.js';
export {
  END_NODE,
  EXIT_RULES_NODE,
  TRIGGER_NODE,
  journeyGraph,
  type GraphEdge,
  type GraphNode,
  type GraphNodeKind,
  type JourneyGraph,
} from './graph.js';
export { TimerQueue, type QueuedTimer } from './timer-queue.js';
export { MinHeap } from './min-heap.js';
export { asShadow, SHADOW_PREFIX, shadowToken, unshadowToken } from './shadow.js';
