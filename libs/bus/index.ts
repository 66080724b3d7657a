export {
  connectBus,
  connectOptionsOf,
  compareVersions,
  inboxPrefixOf,
  MIN_SERVER_VERSION,
} from './connection.js';
export type { Bus, BusOptions } from './connection.js';
export { provision } from './provision.js';
export type { Drift, ProvisionReport } from './provision.js';
export {
  AUDIT_MAX_AGE_MS,
  BUCKETS,
  DELIVER_MAX_AGE_MS,
  DLQ_MAX_AGE_MS,
  JOURNAL_MAX_AGE_MS,
  STREAMS,
  desiredBuckets,
  desiredStreams,
} from './topology.js';
export type { DesiredBucket, DesiredStream, TopologyConfig } from './topology.js';
export { defineMessage } from './codec.js';
export type { MessageCodec } from './codec.js';
export { fnv1a32, misrouted, partitionOf } from './partition.js';
export {
  casUpdate,
  decodeKey,
  decodeValue,
  encodeKey,
  isCasConflict,
  MAX_KEY_TOKEN_LENGTH,
} from './kv-cas.js';
export { removeKvRevision } from './kv-remove.js';
export { RecentDeletes, REMEMBER_DELETES_MS, type RecentDeletesOptions } from './recent-deletes.js';
export type { CasDecide, CasOptions, CasResult, ValueCodec } from './kv-cas.js';
export { publishWithId } from './publish.js';
export { PULL_EXPIRES_MS, PULL_IDLE_HEARTBEAT_MS, PULL_OPTIONS } from './pull.js';
export { LeanJetStream, LeanKv, type LeanKvOptions } from './lean.js';
export { coalesceWrites } from './coalesce.js';
export type { KvRecord, KvStore, LeanPubAck, LeanPublishOptions, Publisher } from './lean.js';
export type { PublishResult } from './publish.js';
export { ack, handBack, retry, terminal } from './outcome.js';
export type { Outcome } from './outcome.js';
export {
  defaultDurableName,
  startRunner,
  startRunnerReady,
  STOP_NAK_DELAY_MS,
  throwBackoffMs,
} from './runner.js';
export type { HandlerContext, MessageKeys, Runner, RunnerMetrics, RunnerOptions } from './runner.js';
export {
  decodeDlqRecord,
  DLQ_RECORD_MAX_BYTES,
  DLQ_STAGES,
  dlqDepths,
  DlqRecordSchema,
  dlqRecordOf,
  publishDlq,
} from './dlq.js';
export {
  leaseCodec,
  leaseKey,
  leaseMarginMs,
  leaseRenewMs,
  LeaseSchema,
  newLeaseHolder,
  PartitionLeases,
} from './lease.js';
export type { Lease, LeaseEnd, LeaseMetrics, PartitionLeasesOptions } from './lease.js';
export { startPartitionRunners } from './partition-runners.js';
export type { PartitionRunners, PartitionRunnersOptions } from './partition-runners.js';
export type { DlqRecord } from './dlq.js';
export { KeyScheduler } from './key-scheduler.js';
export { RecoveryGate, type Sequenced } from './recovery-gate.js';
export {
  aliasAt,
  MAX_ALIAS_HOPS,
  MAX_ALIAS_LINKS,
  profileCodec,
  readCanonicalProfile,
  StoredProfileSchema,
} from './profiles.js';
export type { CanonicalProfile, StoredProfile } from './profiles.js';
export {
  ArchiveNoticeMessage,
  ArchiveNoticeSchema,
  archiveInputId,
  endArchivedInstances,
  matchArchiveSubject,
} from './archive.js';
export type { ArchiveNotice, SweepOptions } from './archive.js';
export { BusCodes, BusError, CAS_CONFLICT_CODES } from './errors.js';
export type { BusCode } from './errors.js';
export {
  DeliverJobMessage,
  DeliverJobSchema,
  DeliveryAttemptSchema,
  MatchEventMessage,
  ShadowEventMessage,
  NormalizedEventSchema,
  TimerMessage,
  TimerSchema,
  subjects,
} from './messages.js';
export type { DeliverJob, DeliveryAttempt, TimerRecord } from './messages.js';
export {
  CircuitSchema,
  DEFAULT_RETRY_BUDGET_MS,
  disableDestination,
  MAX_SECRETS,
  signingSecrets,
  DESTINATION_INVALID,
  DestinationCache,
  DestinationError,
  DestinationSchema,
  NatsDestinationSchema,
  WebhookDestinationSchema,
  decodeDestination,
  deleteDestination,
  getDestination,
  listDestinations,
  parseDestinationFile,
  putDestination,
} from './destination-registry.js';
export type {
  CircuitSettings,
  DeliverySettings,
  Destination,
  DestinationIssue,
  NatsDestination,
  WebhookDestination,
} from './destination-registry.js';
export {
  readWatermark,
  timerProgressCodec,
  timerProgressKey,
  TimerProgressSchema,
  WATERMARK_KEY,
  watermarkKey,
  watermarkCodec,
  watermarkOf,
  WatermarkSchema,
} from './state.js';
export type { TimerProgress, Watermark } from './state.js';
export {
  archiveJourney,
  archiveShadow,
  JOURNEY_NO_SHADOW,
  JOURNEY_NOT_ACTIVE,
  JOURNEY_NOT_FOUND,
  JOURNEY_VERSION_EXHAUSTED,
  journeyHeadCodec,
  JourneyHeadSchema,
  JourneyRegistryError,
  journeyVersionCodec,
  journeyVersionKey,
  JourneyVersionSchema,
  listJourneys,
  promoteShadow,
  publishJourneyVersion,
  publishShadowVersion,
  readJourneyHead,
  readJourneyVersion,
  VersionStatusSchema,
  watchJourneys,
} from './journey-registry.js';
export type {
  JourneyHead,
  JourneyRegistryCode,
  JourneyVersion,
  PromoteResult,
  ShadowPublishResult,
  JourneyWatch,
  PublishOptions as JourneyPublishOptions,
  PublishResult as JourneyPublishResult,
  VersionStatus,
} from './journey-registry.js';
export {
  instanceCodec,
  instanceKvKey,
  InstanceSchema,
  JournalBatchSchema,
  JournalMessage,
  JournalRecordSchema,
  userInstancesFilter,
} from './instances.js';
export {
  CLOCK_MEASURE_EVERY_MS,
  measureServerOffset,
  startServerClock,
  type ClockMeasurement,
  type ServerClock,
  type ServerClockOptions,
} from './server-clock.js';
export {
  NATS_DESTINATION_SUBJECTS,
  nkeyVariable,
  permissionsOf,
  renderAuthConf,
  renderKeysConf,
  ROLES,
  SERVICE_ROLES,
} from './permissions.js';
export type { Permissions, Role, ServiceRole } from './permissions.js';
export {
  CIRCUIT_STATES,
  circuitHolderToken,
  circuitKey,
  CircuitReportSchema,
  encodeCircuitReport,
  readCircuits,
} from './circuit-state.js';
export type { CircuitReport, CircuitStateName, CircuitView } from './circuit-state.js';
export { listKvKeys } from './kv-keys.js';
