// libs/events: the Segment Spec (schemas, normalization, JSON parsing) and identity (profile
// traits, aliases). Pure functions: ingest does the I/O.
export { EventCodes, EventError, type EventCode, type EventProblem, type JsonPosition } from './errors.js';
export {
  EVENT_TYPES,
  MESSAGE_ID_MAX_LENGTH,
  TIMESTAMP_FIELDS,
  isEventType,
  specEventSchema,
  trackSchema,
  identifySchema,
  pageSchema,
  screenSchema,
  groupSchema,
  aliasSchema,
  type SpecEvent,
} from './spec.js';
export { parseSpecTimestamp } from './timestamp.js';
export { correctTimestamp, type ClientTimes } from './skew.js';
export { parseEventJson, eventSizeBytes, MAX_EVENT_DEPTH, nestsDeeperThan, type JsonResult } from './json.js';
export { ID_MAX_LENGTH, identifierProblem } from './identifiers.js';
export { findJsonSyntaxError, type JsonSyntaxError } from './json-syntax.js';
export { firstInvalidUtf8 } from './utf8.js';
export {
  normalizeEvent,
  DEFAULT_MAX_EVENT_BYTES,
  type NormalizeOptions,
  type NormalizeResult,
} from './normalize.js';
export { mergeTraits, mergeAliasedProfiles, traitsForProfile, aliasTarget } from './identity.js';
export {
  HTTP_LIMITS,
  UNKNOWN_TYPE_TOKEN,
  prepareHttpEvents,
  writeKeyFromBasicAuth,
  type HttpApiEvent,
  type HttpApiOptions,
  type HttpApiPath,
  type HttpApiResult,
  type HttpLimits,
} from './http-api.js';
export {
  AUDIENCE_ENTERED,
  AUDIENCE_EXITED,
  AUDIENCE_ID,
  applyAudienceChange,
  audienceChange,
  computeAudiences,
  parseAudienceDefinitions,
  type AudienceChange,
  type ComputedAudience,
} from './audience.js';
