// The shared metric objects, defined in one place so every service uses the same names.
// Labels never carry user ids (STYLE.md rule 12): only stages, journeys, destinations, outcomes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { buildInfo } from './build-info.js';

/** Event-to-destination latency buckets (s); 300 s is Segment's target (DESIGN.md §5.7). */
export const DELIVERY_LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
const HANDLE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface Metrics {
  registry: Registry;
  eventsIngested: Counter<'type'>;
  dlq: Counter<'stage' | 'reason'>;
  kvCasConflicts: Counter<'bucket'>;
  runnerMessages: Counter<'stage' | 'outcome'>;
  runnerHandleSeconds: Histogram<'stage'>;
  journal: Counter<'journey' | 'type'>;
  deliveries: Counter<'journey' | 'destination' | 'outcome'>;
  deliveryLatency: Histogram<'journey' | 'destination'>;
  deliveryEventLatency: Histogram<'journey' | 'destination'>;
  timerLateness: Histogram;
  timersFired: Counter;
  /** The NATS server's clock minus this host's (libs/bus server-clock.ts). */
  clockOffset: Gauge;
  /** 1 while the measured offset exceeds CAIRN_MAX_CLOCK_SKEW. */
  clockSkewExceeded: Gauge;
  /** Consumer info of the durable consumers a process owns (consumer-gauges.ts). */
  consumerPending: Gauge<'stream' | 'partition'>;
  consumerAckPending: Gauge<'stream' | 'partition'>;
  consumerDeliveredSequence: Gauge<'stream' | 'partition'>;
  /** Journey instances entered, steps entered, instances ended (services/matcher journey-metrics.ts). */
  journeyEntries: Counter<'journey'>;
  journeyTransitions: Counter<'journey' | 'step'>;
  journeyExits: Counter<'journey' | 'reason'>;
  /** Messages stored in the DLQ stream per subject `dlq.<stage>`. */
  dlqMessages: Gauge<'stage'>;
  /** Timers stored and not fired yet, per owned partition (the timer service). */
  timersPending: Gauge<'partition'>;
  /** The timer's clock minus the partition's watermark. */
  watermarkAge: Gauge<'partition'>;
  /** 1, labelled with the running build. */
  buildInfo: Gauge<'version' | 'node_version' | 'commit'>;
  /** Partitions whose lease this process holds, by stage (libs/bus lease.ts). */
  partitionsOwned: Gauge<'stage'>;
  /** Leases taken over from a holder that stopped renewing them. */
  leaseTakeovers: Counter<'stage'>;
  /** Leases this process lost while it wanted them (`expired`, `taken`). */
  leaseLosses: Counter<'stage' | 'reason'>;
}

export interface MetricsOptions {
  /** Also export Node process metrics (default true). */
  defaultMetrics?: boolean;
}

/** A fresh registry with every Cairn metric registered on it (one per process; tests make many). */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsIngested: new Counter({
      name: 'cairn_events_ingested_total',
      help: 'Events accepted by ingest, by event type',
      labelNames: ['type'],
      registers,
    }),
    dlq: new Counter({
      name: 'cairn_dlq_total',
      help: 'Messages moved to the DLQ, by stage and reason',
      labelNames: ['stage', 'reason'],
      registers,
    }),
    kvCasConflicts: new Counter({
      name: 'cairn_kv_cas_conflicts_total',
      help: 'KV compare-and-set conflicts that forced a reload',
      labelNames: ['bucket'],
      registers,
    }),
    runnerMessages: new Counter({
      name: 'cairn_runner_messages_total',
      help: 'Messages handled by a runner, by stage and outcome',
      labelNames: ['stage', 'outcome'],
      registers,
    }),
    runnerHandleSeconds: new Histogram({
      name: 'cairn_runner_handle_seconds',
      help: 'Handler time per message',
      labelNames: ['stage'],
      buckets: HANDLE_BUCKETS,
      registers,
    }),
    journal: new Counter({
      name: 'cairn_journal_total',
      help: 'Journal entries (instance transitions), by journey and type',
      labelNames: ['journey', 'type'],
      registers,
    }),
    deliveries: new Counter({
      name: 'cairn_deliveries_total',
      help: 'Delivery attempts, by journey, destination and outcome',
      labelNames: ['journey', 'destination', 'outcome'],
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'cairn_delivery_latency_seconds',
      help: 'Event received by ingest (or timer due) to destination acknowledged',
      labelNames: ['journey', 'destination'],
      buckets: DELIVERY_LATENCY_BUCKETS,
      registers,
    }),
    deliveryEventLatency: new Histogram({
      name: 'cairn_delivery_event_latency_seconds',
      help: "Event timestamp (the producer's clock) to destination acknowledged",
      labelNames: ['journey', 'destination'],
      buckets: DELIVERY_LATENCY_BUCKETS,
      registers,
    }),
    timerLateness: new Histogram({
      name: 'cairn_timer_lateness_seconds',
      help: 'Timer fire time minus its due instant',
      buckets: LATENESS_BUCKETS,
      registers,
    }),
    timersFired: new Counter({ name: 'cairn_timers_fired_total', help: 'Timers fired', registers }),
    clockOffset: new Gauge({
      name: 'cairn_clock_offset_seconds',
      help: "The NATS server's clock minus this host's clock, as last measured",
      registers,
    }),
    clockSkewExceeded: new Gauge({
      name: 'cairn_clock_skew_exceeded',
      help: 'Whether the measured clock offset exceeds CAIRN_MAX_CLOCK_SKEW (1) or not (0)',
      registers,
    }),
    consumerPending: new Gauge({
      name: 'cairn_consumer_pending_messages',
      help: 'Messages of a consumer not delivered yet (num_pending), by stream and partition',
      labelNames: ['stream', 'partition'],
      registers,
    }),
    consumerAckPending: new Gauge({
      name: 'cairn_consumer_ack_pending_messages',
      help: 'Messages delivered to a consumer and not acknowledged yet (num_ack_pending)',
      labelNames: ['stream', 'partition'],
      registers,
    }),
    consumerDeliveredSequence: new Gauge({
      name: 'cairn_consumer_delivered_sequence',
      help: 'Stream sequence of the last message delivered to a consumer',
      labelNames: ['stream', 'partition'],
      registers,
    }),
    journeyEntries: new Counter({
      name: 'cairn_journey_entries_total',
      help: 'Journey instances entered, by journey',
      labelNames: ['journey'],
      registers,
    }),
    journeyTransitions: new Counter({
      name: 'cairn_journey_transitions_total',
      help: 'Steps entered by journey instances, by journey and step',
      labelNames: ['journey', 'step'],
      registers,
    }),
    journeyExits: new Counter({
      name: 'cairn_journey_exits_total',
      help: 'Journey instances ended, by journey and reason',
      labelNames: ['journey', 'reason'],
      registers,
    }),
    dlqMessages: new Gauge({
      name: 'cairn_dlq_messages',
      help: 'Messages stored in the DLQ stream, by stage (subject dlq.<stage>)',
      labelNames: ['stage'],
      registers,
    }),
    timersPending: new Gauge({
      name: 'cairn_timers_pending',
      help: 'Timers stored and not fired yet, by partition',
      labelNames: ['partition'],
      registers,
    }),
    watermarkAge: new Gauge({
      name: 'cairn_watermark_age_seconds',
      help: "Now minus the partition's watermark, as the timer service sees it",
      labelNames: ['partition'],
      registers,
    }),
    buildInfo: buildInfoGauge(registers),
    partitionsOwned: new Gauge({
      name: 'cairn_partitions_owned',
      help: 'Partitions whose lease this process holds (and consumes), by stage',
      labelNames: ['stage'],
      registers,
    }),
    leaseTakeovers: new Counter({
      name: 'cairn_lease_takeovers_total',
      help: 'Partition leases taken over from a holder that stopped renewing them, by stage',
      labelNames: ['stage'],
      registers,
    }),
    leaseLosses: new Counter({
      name: 'cairn_lease_losses_total',
      help: 'Partition leases lost while held (expired: not renewed in time; taken: another holder wrote it), by stage',
      labelNames: ['stage', 'reason'],
      registers,
    }),
  };
}

function buildInfoGauge(registers: Registry[]): Gauge<'version' | 'node_version' | 'commit'> {
  const gauge = new Gauge({
    name: 'cairn_build_info',
    help: 'Always 1, labelled with the running version, Node.js version and git commit',
    labelNames: ['version', 'node_version', 'commit'],
    registers,
  });
  const info = buildInfo();
  gauge.set({ version: info.version, node_version: info.nodeVersion, commit: info.commit }, 1);
  return gauge;
}
