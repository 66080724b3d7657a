export {
  INGEST_DURABLE,
  INGEST_STAGE,
  INGEST_SUBJECT,
  ingestDurable,
  loadAudiences,
  startIngest,
} from './service.js';
export type { Ingest, IngestContext, IngestOptions } from './service.js';
export { eventHandler, EventParser, ownsPartition, receivedAtOf, type IngestShard } from './event.js';
export { applyProfileAudience, linkAlias, mergeProfileTraits, resolveUserKey } from './profile.js';
export { DEDUPE_BUCKET, openDedupeStore, type DedupeStore } from './dedupe.js';
export {
  HTTP_PATHS,
  HttpCodes,
  SOURCE_HEADER,
  startHttpApi,
  type HttpApi,
  type HttpApiOptions,
} from './http.js';
export { ingestMetrics, type IngestMetrics } from './metrics.js';
export {
  IDLE_MARGIN_MS,
  RoutingTracker,
  startWatermarkPublisher,
  WATERMARK_INTERVAL_MS,
} from './watermark.js';
export { readWatermark } from '../../libs/bus/index.js';
