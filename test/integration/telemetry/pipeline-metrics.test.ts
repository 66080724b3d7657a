// The operator's gauges and journey counters against a real nats-server: consumer lag rises with a
// backlog and falls when it drains, the DLQ depth counts a dead-lettered message, a journey run
// counts its entries, transitions and exits, timers pending rise and drain, the watermark's age
// stays small while ingest runs, and the build is labelled.
import t from 'tap';

import { startRunner, STREAMS, ack, type Outcome } from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { createMetrics, startConsumerGauges, type Metrics } from '../../../libs/telemetry/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { journey, publishEvent, publishJourneys, startPipeline, startUp } from '../../helpers/pipeline.js';

type Labels = Record<string, string | number>;

/** The value of the series of `metric` whose labels include `labels` (undefined: no such series). */
async function valueOf(
  metric: { get(): Promise<{ values: { labels: Labels; value: number }[] }> },
  labels: Labels,
): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

async function sumOf(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((n, v) => n + v.value, 0);
}

void t.test('consumer gauges: pending rises with a backlog and falls when it drains', async (t) => {
  const { bus } = await withBus(t);
  const metrics = createMetrics({ defaultMetrics: false });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const runner = startRunner({
    bus,
    stream: STREAMS.DELIVER,
    stage: 'lag',
    subjects: ['deliver.0'],
    keyOf: (msg) => String(msg.seq),
    handler: async (): Promise<Outcome> => {
      await gate;
      return ack();
    },
    maxDeliver: 5,
    ackWaitMs: 30_000,
    concurrency: 4,
    maxAckPending: 5,
    dlqSubject: 'dlq.matcher',
    logger: silentLogger,
  });
  await runner.ready;
  t.teardown(() => runner.stop(0));
  const gauges = startConsumerGauges({
    bus,
    stream: STREAMS.DELIVER,
    consumers: [{ durable: 'lag-p0', partition: '0' }],
    metrics,
    intervalMs: 100,
    log: silentLogger,
  });
  t.teardown(() => gauges.stop());
  const labels = { stream: 'DELIVER', partition: '0' };
  await waitUntil(async () => (await valueOf(metrics.consumerPending, labels)) === 0, 5_000, 'first read');
  t.equal(await valueOf(metrics.consumerDeliveredSequence, labels), 0, 'nothing delivered yet');

  for (let i = 0; i < 20; i++) await bus.js.publish('deliver.0', new Uint8Array([i]));
  // At most 5 in flight (max ack pending): the other 15 wait on the server.
  await waitUntil(
    async () =>
      (await valueOf(metrics.consumerPending, labels)) === 15 &&
      (await valueOf(metrics.consumerAckPending, labels)) === 5,
    10_000,
    'a backlog of 15 behind 5 in flight',
  );
  t.equal(await valueOf(metrics.consumerDeliveredSequence, labels), 5, 'delivered up to sequence 5');

  release();
  await waitUntil(
    async () =>
      (await valueOf(metrics.consumerPending, labels)) === 0 &&
      (await valueOf(metrics.consumerAckPending, labels)) === 0 &&
      (await valueOf(metrics.consumerDeliveredSequence, labels)) === 20,
    10_000,
    'the backlog drained',
  );
  t.pass('pending and ack pending back to 0, delivered sequence at 20');
});

void t.test('cairn up: DLQ depth, consumer series of every owned partition, build info', async (t) => {
  const server = await withNats(t);
  const config = loadConfig({
    NATS_URL: server.url,
    CAIRN_PARTITIONS: '2',
    CAIRN_METRICS_PORT: '0',
    CAIRN_METRICS_INTERVAL: '1s',
  });
  const life = await startUp(t, config);
  const m = life.metrics;
  await waitUntil(async () => (await valueOf(m.dlqMessages, { stage: 'ingest' })) === 0, 10_000, 'DLQ read');

  // Not JSON: ingest dead-letters it on dlq.ingest.
  await life.bus.js.publish('events.track', 'not json');
  await waitUntil(
    async () => (await valueOf(m.dlqMessages, { stage: 'ingest' })) === 1,
    15_000,
    'cairn_dlq_messages{stage="ingest"} 1',
  );
  for (const stage of ['matcher', 'shadow', 'deliver', 'timer']) {
    t.equal(await valueOf(m.dlqMessages, { stage }), 0, `nothing on dlq.${stage}`);
  }
  await waitUntil(
    async () => (await valueOf(m.consumerDeliveredSequence, { stream: 'EVENTS', partition: 'all' })) === 1,
    10_000,
    'ingest consumer read after the event',
  );

  const text = await (await fetch(`http://127.0.0.1:${life.metricsPort}/metrics`)).text();
  t.match(text, /^cairn_dlq_messages\{stage="ingest"\} 1$/m);
  for (const [stream, partitions] of [
    ['EVENTS', ['all']],
    ['MATCH', ['0', '1']],
    ['SHADOW', ['0', '1']],
    ['DELIVER', ['0', '1']],
  ] as const) {
    for (const partition of partitions) {
      t.match(
        text,
        new RegExp(
          `^cairn_consumer_pending_messages\\{stream="${stream}",partition="${partition}"\\} 0$`,
          'm',
        ),
        `${stream} partition ${partition} pending`,
      );
      t.match(
        text,
        new RegExp(
          `^cairn_consumer_delivered_sequence\\{stream="${stream}",partition="${partition}"\\} \\d+$`,
          'm',
        ),
      );
    }
  }
  t.match(
    text,
    /^cairn_consumer_delivered_sequence\{stream="EVENTS",partition="all"\} 1$/m,
    'the event delivered',
  );
  t.match(text, /^cairn_timers_pending\{partition="0"\} 0$/m);
  t.match(
    text,
    new RegExp(
      `^cairn_build_info\\{version="0\\.1\\.0",node_version="${process.version.replace(/\./g, '\\.')}",commit="[0-9a-f]{40}|unknown"\\} 1$`,
      'm',
    ),
  );
});

const SIGNUP = `
id: signup
name: Signup
trigger: { event: signed_up }
entry: { mode: once }
exit:
  - event: account_deleted
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: paid, event: paid, next: thanks }
    timeout: { after: 4s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Nudge, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

async function journeyCounts(m: Metrics): Promise<Record<string, number | undefined>> {
  const j = { journey: 'signup' };
  return {
    entries: await valueOf(m.journeyEntries, j),
    wait: await valueOf(m.journeyTransitions, { ...j, step: 'wait' }),
    nudge: await valueOf(m.journeyTransitions, { ...j, step: 'nudge' }),
    thanks: await valueOf(m.journeyTransitions, { ...j, step: 'thanks' }),
    end: await valueOf(m.journeyTransitions, { ...j, step: 'end' }),
    completed: await valueOf(m.journeyExits, { ...j, reason: 'completed' }),
    exitRule: await valueOf(m.journeyExits, { ...j, reason: 'exit_rule' }),
  };
}

void t.test('a journey run: entries, transitions, exits, timers pending, watermark age', async (t) => {
  const p = await startPipeline(t, { CAIRN_METRICS_INTERVAL: '1s', CAIRN_INSTANCE_RETENTION: '1s' });
  const m = p.metrics;
  await publishJourneys(p.bus, journey(SIGNUP));
  const track = (userId: string, event: string, messageId: string) =>
    publishEvent(p.bus, ['track', { event, userId, messageId }]);

  // Three instances wait in the hold, each with its timeout timer stored.
  await track('u1', 'signed_up', 'm1');
  await track('u2', 'signed_up', 'm2');
  await track('u3', 'signed_up', 'm3');
  await waitUntil(async () => (await sumOf(m.timersPending)) === 3, 4_000, '3 timers pending');
  t.same(await journeyCounts(m), {
    entries: 3,
    wait: 3,
    nudge: undefined,
    thanks: undefined,
    end: undefined,
    completed: undefined,
    exitRule: undefined,
  });

  // u1 pays (thanks, end), u3 leaves by the exit rule, u2 times out (nudge, end).
  await track('u1', 'paid', 'm4');
  await track('u3', 'account_deleted', 'm5');
  await waitUntil(() => p.sink.requests.length >= 2, 15_000, 'thanks and nudge sent');
  await waitUntil(async () => (await journeyCounts(m)).completed === 2, 10_000, 'two instances completed');
  t.same(await journeyCounts(m), {
    entries: 3,
    wait: 3,
    nudge: 1,
    thanks: 1,
    end: 2,
    completed: 2,
    exitRule: 1,
  });

  // Every timer fired (timeouts, stale ones, the 1 s retention timers) and removed: none pending.
  await waitUntil(async () => (await sumOf(m.timersPending)) === 0, 20_000, 'no timer pending');
  t.pass('timers pending drained to 0');

  // Ingest runs: every partition's watermark is fresh.
  for (let partition = 0; partition < 4; partition++) {
    const age = await valueOf(m.watermarkAge, { partition: String(partition) });
    t.ok(age !== undefined && age >= -1 && age < 5, `partition ${partition} watermark age ${age}`);
  }
});
