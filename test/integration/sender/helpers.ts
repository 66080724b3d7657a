// Shared setup of the sender tests: a provisioned bus, a running sender, and job publishing.
import {
  partitionOf,
  DeliverJobMessage,
  decodeDlqRecord,
  publishWithId,
  STREAMS,
  subjects,
  type DeliverJob,
  type DlqRecord,
} from '../../../libs/bus/index.js';
import { createMetrics, type Metrics } from '../../../libs/telemetry/index.js';
import {
  backoffMs,
  decodeDeliveryDlqRecord,
  type DeliveryDlqRecord,
  retryAfterMs,
  startSender,
  type Sender,
  type SenderOptions,
} from '../../../services/sender/index.js';
import { silentLogger, withBus, type TestBus } from '../../helpers/bus.js';

export { backoffMs, retryAfterMs };

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface SenderHarness extends TestBus {
  sender: Sender;
  metrics: Metrics;
  publishJob(job: DeliverJob, msgId?: string): Promise<void>;
  dlq(): Promise<DlqRecord[]>;
  /** The DLQ records with the sender's delivery fields (attempts), with their stream sequence. */
  deliveryDlq(): Promise<Array<DeliveryDlqRecord & { dlqSeq: number }>>;
}

export async function withSender(
  t: Teardownable,
  opts: SenderOptions = {},
  env: Record<string, string> = {},
): Promise<SenderHarness> {
  const tb = await withBus(t, {
    CAIRN_PARTITIONS: '2',
    CAIRN_MAX_DELIVER: '5',
    // The sink listens on 127.0.0.1.
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    ...env,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const sender = await startSender({ config: tb.config, bus: tb.bus, logger: silentLogger, metrics }, opts);
  t.teardown(() => sender.stop(1_000));
  return {
    ...tb,
    sender,
    metrics,
    async publishJob(job, msgId = job.deliveryId) {
      await publishWithId(tb.bus.js, subjects.deliver(0), DeliverJobMessage.encode(job), msgId);
    },
    async deliveryDlq() {
      const out: Array<DeliveryDlqRecord & { dlqSeq: number }> = [];
      const info = await tb.bus.jsm.streams.info(STREAMS.DLQ);
      if (info.state.messages === 0) return out;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await tb.bus.jsm.streams.getMessage(STREAMS.DLQ, { seq }).catch(() => null);
        if (m) out.push({ ...decodeDeliveryDlqRecord(m.data), dlqSeq: seq });
      }
      return out;
    },
    async dlq() {
      const out: DlqRecord[] = [];
      const info = await tb.bus.jsm.streams.info(STREAMS.DLQ);
      if (info.state.messages === 0) return out;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await tb.bus.jsm.streams.getMessage(STREAMS.DLQ, { seq });
        if (m) out.push(decodeDlqRecord(m.data));
      }
      return out;
    },
  };
}

/** A user key on `partition` of `partitions`: the sender acts on a job only on its user's
 * partition, as the matcher publishes it. */
export function userOn(partition: number, partitions = 2, prefix = 'user'): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`;
    if (partitionOf(key, partitions) === partition) return key;
  }
}

let n = 0;
export function job(over: Partial<DeliverJob> = {}): DeliverJob {
  n++;
  return {
    v: 1,
    deliveryId: `d-${process.pid}-${n}`,
    destination: 'crm',
    userKey: userOn(0, 2, `user-${n}`),
    stepKey: { journeyId: 'welcome', version: 1, stepId: 'send-1' },
    payload: { event: 'Welcome', n, nested: { ok: true } },
    eventReceivedAt: Date.now() - 1_500,
    eventTimestamp: Date.now() - 2_000,
    ...over,
  };
}

/** Sum of a histogram's observations count for labels, read from the registry. */
export async function histogramCount(
  metrics: Metrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find(
    (x) =>
      (x as { metricName?: string }).metricName === `${name}_count` &&
      Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? 0;
}

export async function counterValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
