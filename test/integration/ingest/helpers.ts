// Shared setup of the ingest tests: a provisioned bus, ingest started on it, and collectors of
// what ingest routes (match.*.event) and rejects (dlq.ingest).
import type { Msg } from '@nats-io/transport-node';

import { decodeDlqRecord, MatchEventMessage, type DlqRecord } from '../../../libs/bus/index.js';
import { createMetrics, type Metrics } from '../../../libs/telemetry/index.js';
import { startIngest, type Ingest, type IngestOptions } from '../../../services/ingest/index.js';
import { silentLogger, withBus, type TestBus } from '../../helpers/bus.js';

export type Routed = ReturnType<typeof MatchEventMessage.decode> & { subject: string; msgId: string };

export interface IngestHarness extends TestBus {
  ingest: Ingest;
  metrics: Metrics;
  routed: Routed[];
  dlq: DlqRecord[];
  publish(subject: string, body: unknown): Promise<{ seq: number }>;
}

export async function withIngest(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
  opts: IngestOptions = {},
): Promise<IngestHarness> {
  const tb = await withBus(t, { CAIRN_PARTITIONS: '4', ...env });
  const routed: Routed[] = [];
  const dlq: DlqRecord[] = [];
  const collect = (subject: string, fn: (m: Msg) => void): void => {
    const sub = tb.bus.nc.subscribe(subject, { callback: (_err, m) => fn(m) });
    t.teardown(() => sub.unsubscribe());
  };
  collect('match.*.event', (m) =>
    routed.push({
      ...MatchEventMessage.decode(m.data),
      subject: m.subject,
      msgId: m.headers?.get('Nats-Msg-Id') ?? '',
    }),
  );
  collect('dlq.ingest', (m) => dlq.push(decodeDlqRecord(m.data)));
  await tb.bus.nc.flush();
  const metrics = createMetrics({ defaultMetrics: false });
  const ingest = await startIngest({ config: tb.config, bus: tb.bus, logger: silentLogger, metrics }, opts);
  t.teardown(() => ingest.stop(1_000));
  return {
    ...tb,
    ingest,
    metrics,
    routed,
    dlq,
    async publish(subject, body) {
      const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
      const ack = await tb.bus.js.publish(subject, bytes);
      return { seq: ack.seq };
    },
  };
}
