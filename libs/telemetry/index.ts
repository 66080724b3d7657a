export { createLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createMetrics, DELIVERY_LATENCY_BUCKETS } from './metrics.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { startTelemetryServer } from './http.js';
export { startConsumerGauges, startDlqGauges, startPoller } from './gauges.js';
export type { ConsumerGaugesOptions, OwnedConsumer, Poller } from './gauges.js';
export { buildInfo } from './build-info.js';
export type { BuildInfo } from './build-info.js';
export type { Readiness, TelemetryServer, TelemetryServerOptions } from './http.js';
export { TelemetryCodes, TelemetryError } from './errors.js';
export type { TelemetryCode } from './errors.js';
export { describeStartFailure, runService, startLifecycle } from './lifecycle.js';
export type {
  Lifecycle,
  LifecycleOptions,
  LifecycleState,
  RunningService,
  RunServiceOptions,
  ServiceContext,
  StartFn,
} from './lifecycle.js';
