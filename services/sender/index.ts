export { SENDER_STAGE, startSender, UNKNOWN_DESTINATION_RETRY_MS } from './service.js';
export type { Sender, SenderContext, SenderOptions } from './service.js';
export type { SenderClock, SentRecord } from './deliver.js';
export { signatureOf, signWebhook } from './signing.js';
export type { SignatureHeaders } from './signing.js';
export { backoffCeilingMs, backoffMs, retryAfterMs } from './backoff.js';
export { EGRESS_DENIED, EgressPolicy } from './egress.js';
export { CIRCUIT_DEFAULTS, CircuitBreaker } from './circuit.js';
export { DEFAULT_DESTINATION_CONCURRENCY } from './isolation.js';
export {
  decodeDeliveryDlqRecord,
  DELIVER_DLQ_STAGE,
  DELIVER_DLQ_SUBJECT,
  DeliveryDlqRecordSchema,
} from './dead-letter.js';
export type { DeliveryDlqRecord } from './dead-letter.js';
export { SHORT_WAIT_MS } from './park.js';
export { sendWebhook } from './webhook.js';
export type { AttemptResult } from './webhook.js';
export { NatsPublisher } from './nats-destination.js';
