export { INGEST_DURABLE, INGEST_STAGE, INGEST_SUBJECT, startIngest } from './service.js';
export type { Ingest, IngestContext, IngestOptions } from './service.js';
export { eventHandler, EventParser, receivedAtOf } from './event.js';
export { mergeProfileTraits, profileCodec, StoredProfileSchema } from './profile.js';
export type { StoredProfile } from './profile.js';
export {
  IDLE_MARGIN_MS,
  RoutingTracker,
  startWatermarkPublisher,
  WATERMARK_INTERVAL_MS,
} from './watermark.js';
export { readWatermark } from '../../libs/bus/index.js';
