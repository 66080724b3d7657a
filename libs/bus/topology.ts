// The desired streams and buckets of DESIGN.md §3, in one place: provisioning, docs and tests
// all read them from here.
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export interface TopologyConfig {
  replicas: number;
  eventsMaxAgeMs: number;
  dedupeWindowMs: number;
  idempotencyWindowMs: number;
  /** Ingest's messageId memory (KV `ingest_dedupe`); 0 or absent: no bucket. */
  ingestDedupeWindowMs?: number;
}

export const STREAMS = {
  EVENTS: 'EVENTS',
  MATCH: 'MATCH',
  /** The shadow versions' inputs (`shadow.<p>.event`, `shadow.<p>.timer`), consumed apart from
   * MATCH so that a shadow never delays the live version. */
  SHADOW: 'SHADOW',
  TIMERS: 'TIMERS',
  DELIVER: 'DELIVER',
  JOURNAL: 'JOURNAL',
  DLQ: 'DLQ',
  /** Who changed what through the admin HTTP API, and when (`audit.admin`). */
  AUDIT: 'AUDIT',
} as const;

export const BUCKETS = {
  journeys: 'journeys',
  instances: 'instances',
  profiles: 'profiles',
  destinations: 'destinations',
  sent: 'sent',
  /** Timer progress per partition, ingest watermarks. */
  state: 'cairn_state',
  /** Each user's active instance keys (the per-user limit and exit rules read one entry). */
  userInstances: 'user_instances',
  /** messageId -> EVENTS sequence, for the ingest dedupe window (when it is not 0). */
  ingestDedupe: 'ingest_dedupe',
  /** Partition leases of the matcher, timer and sender (`<stage>.<p>`): who may consume what. */
  leases: 'cairn_leases',
  /** Journal counts per journey version (`<journey>.v<n>[.shadow]`) and the projection's checkpoint. */
  stats: 'cairn_stats',
} as const;

const DAY_MS = 86_400_000;
/** Journal and DLQ keep 30 days: enough to inspect and replay, bounded on disk. */
export const JOURNAL_MAX_AGE_MS = 30 * DAY_MS;
export const DLQ_MAX_AGE_MS = 30 * DAY_MS;
/** Send jobs wait through 4 h of retries; 7 days leaves room for a long destination outage. */
export const DELIVER_MAX_AGE_MS = 7 * DAY_MS;
/** The audit trail of the admin API's writes is kept 90 days. */
export const AUDIT_MAX_AGE_MS = 90 * DAY_MS;

export type DesiredStream = Pick<
  StreamConfig,
  'name' | 'subjects' | 'retention' | 'storage' | 'num_replicas' | 'max_age' | 'duplicate_window' | 'discard'
>;

export interface DesiredBucket {
  name: string;
  /** Values kept per key. */
  history: number;
  /** Max age in ms; 0 = forever. */
  ttlMs: number;
  replicas: number;
}

export function desiredStreams(c: TopologyConfig): DesiredStream[] {
  const base = (
    name: string,
    subjects: string[],
    retention: RetentionPolicy,
    maxAgeMs: number,
  ): DesiredStream => ({
    name,
    subjects,
    retention,
    storage: StorageType.File,
    num_replicas: c.replicas,
    max_age: nanos(maxAgeMs),
    // The duplicate window may not exceed max age.
    duplicate_window: nanos(maxAgeMs > 0 ? Math.min(c.dedupeWindowMs, maxAgeMs) : c.dedupeWindowMs),
    discard: DiscardPolicy.Old,
  });
  return [
    base(STREAMS.EVENTS, ['events.>'], RetentionPolicy.Limits, c.eventsMaxAgeMs),
    // One subject covering `.event` and `.timer`: on 2.9 a consumer filter like `match.3.*` must
    // be a subset of a single stream subject.
    base(STREAMS.MATCH, ['match.*.*'], RetentionPolicy.Workqueue, 0),
    base(STREAMS.SHADOW, ['shadow.*.*'], RetentionPolicy.Workqueue, 0),
    base(STREAMS.TIMERS, ['timers.*.*'], RetentionPolicy.Limits, 0),
    base(STREAMS.DELIVER, ['deliver.*'], RetentionPolicy.Workqueue, DELIVER_MAX_AGE_MS),
    base(STREAMS.JOURNAL, ['journal.*.*'], RetentionPolicy.Limits, JOURNAL_MAX_AGE_MS),
    base(STREAMS.DLQ, ['dlq.*'], RetentionPolicy.Limits, DLQ_MAX_AGE_MS),
    base(STREAMS.AUDIT, ['audit.>'], RetentionPolicy.Limits, AUDIT_MAX_AGE_MS),
  ];
}

export function desiredBuckets(c: TopologyConfig): DesiredBucket[] {
  const b = (name: string, history: number, ttlMs = 0): DesiredBucket => ({
    name,
    history,
    ttlMs,
    replicas: c.replicas,
  });
  return [
    b(BUCKETS.journeys, 1),
    b(BUCKETS.instances, 1),
    b(BUCKETS.profiles, 1),
    b(BUCKETS.destinations, 1),
    b(BUCKETS.sent, 1, c.idempotencyWindowMs),
    b(BUCKETS.state, 1),
    b(BUCKETS.userInstances, 1),
    b(BUCKETS.leases, 1),
    b(BUCKETS.stats, 1),
    ...((c.ingestDedupeWindowMs ?? 0) > 0 ? [b(BUCKETS.ingestDedupe, 1, c.ingestDedupeWindowMs)] : []),
  ];
}
