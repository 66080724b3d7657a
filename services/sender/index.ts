export { SENDER_STAGE, startSender, UNKNOWN_DESTINATION_RETRY_MS } from './service.js';
export type { Sender, SenderContext, SenderOptions } from './service.js';
export type { SentRecord } from './deliver.js';
export { signWebhook } from './signing.js';
export type { SignatureHeaders } from './signing.js';
export { backoffMs, retryAfterMs } from './backoff.js';
export { EGRESS_DENIED, isInternalAddress } from './egress.js';
