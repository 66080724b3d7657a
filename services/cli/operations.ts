// The operations the CLI and the admin HTTP API share (services/admin): one implementation of
// each, the CLI printing lines, the API answering JSON. Failures are CodedErrors (docs/errors.md).
export { CliError, CodedError, type FailureKind } from './io.js';
export {
  archiveAndEnd,
  JOURNEY_MISSING_DESTINATION,
  JOURNEY_VERSION_NOT_FOUND,
  journeyNotFound,
  loadJourneyVersion,
  missingDestinations,
  missingDestinationsError,
  publishJourney,
  type MissingDestination,
} from './journey.js';
export {
  decodePayload,
  DLQ_DESTINATION_DISABLED,
  DLQ_NOT_FOUND,
  DLQ_RECORD_TRUNCATED,
  dropRecord,
  jobOf,
  readAll as readDlqRecords,
  readRecord as readDlqRecord,
  retryRecord,
  type Stored as StoredDlqRecord,
} from './dlq.js';
export {
  DESTINATION_NOT_FOUND,
  destinationNotFound,
  maskDestination,
  testFixOf,
  testSend,
  verdictOf,
  type TestSendResult,
} from './destination.js';
export { inspectUser, type DeliveryOutcome, type UserInspection } from './inspect.js';
