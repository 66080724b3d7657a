// Ingest's own metrics, registered on the process registry next to libs/telemetry's. Registered
// once per registry: `cairn up` and tests may start ingest more than once on one registry.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface IngestMetrics {
  /** Events dropped because their messageId was seen within the ingest dedupe window. */
  duplicates: Counter;
  /** HTTP Tracking API requests by path and status. */
  httpRequests: Counter<'path' | 'status'>;
  /** Events accepted over HTTP (stored in EVENTS), by subject type. */
  httpEvents: Counter<'type'>;
  /** From arrival to the last JetStream ack, per accepted request. */
  httpAckSeconds: Histogram;
  /** HTTP connections closed as they arrived, by the cap they were over (total, per_ip). */
  httpConnectionsRefused: Counter<'limit'>;
  /** Profile changes: alias links and audience entries/exits. */
  identity: Counter<'change'>;
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function ingestMetrics(registry: Registry): IngestMetrics {
  const ackName = 'cairn_http_ack_seconds';
  const ack =
    (registry.getSingleMetric(ackName) as Histogram | undefined) ??
    new Histogram({
      name: ackName,
      help: 'HTTP Tracking API: from request arrival to every event acknowledged by JetStream',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  return {
    duplicates: counter(
      registry,
      'cairn_ingest_duplicates_total',
      'Events dropped as repeats of a messageId seen within the ingest dedupe window',
      [],
    ),
    httpRequests: counter(registry, 'cairn_http_requests_total', 'HTTP Tracking API requests', [
      'path',
      'status',
    ]),
    httpEvents: counter(
      registry,
      'cairn_http_events_total',
      'Events accepted over HTTP and stored in EVENTS',
      ['type'],
    ),
    httpAckSeconds: ack,
    httpConnectionsRefused: counter(
      registry,
      'cairn_http_connections_refused_total',
      'HTTP connections closed as they arrived because a connection cap was reached',
      ['limit'],
    ),
    identity: counter(
      registry,
      'cairn_profile_changes_total',
      'Profile identity changes (alias links, audience entries and exits)',
      ['change'],
    ),
  };
}
