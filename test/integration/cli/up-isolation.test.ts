// `cairn up` runs every stage on its own NATS connection: when the server closes one of them (here
// ingest's, over a control line longer than the server's limit, which is what a ~3,000-character
// userId once did through ingest's profile lookup), the other stages keep their connection, and
// none of their messages is redelivered into the DLQ.
import { Empty, type NatsConnection } from '@nats-io/transport-node';
import t from 'tap';

import {
  connectBus,
  parseDestinationFile,
  publishJourneyVersion,
  putDestination,
  STREAMS,
  type Bus,
  type ServiceRole,
} from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { withNats } from '../../helpers/nats-server.js';
import { journey, startUp } from '../../helpers/pipeline.js';

const FORWARD = `
id: forward
name: Forward
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], event: Form Submitted }
`;

interface Drops {
  disconnects: number;
  reconnects: number;
}

function countDrops(nc: NatsConnection): Drops {
  const count = { disconnects: 0, reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') count.disconnects++;
      if (s.type === 'reconnect') count.reconnects++;
    }
  })();
  return count;
}

void t.test("the server closing one stage's connection leaves the other stages' alone", async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({
    NATS_URL: nats.url,
    CAIRN_METRICS_PORT: '0',
    CAIRN_PARTITIONS: '2',
    CAIRN_SHUTDOWN_GRACE: '2s',
    CAIRN_ACK_WAIT: '2s',
    CAIRN_MAX_DELIVER: '2',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
  });
  const buses = new Map<ServiceRole, Bus>();
  const life = await startUp(t, config, (stage, bus) => buses.set(stage, bus));
  await waitUntil(() => life.isReady(), 15_000, 'every service ready');
  t.same([...buses.keys()].sort(), ['ingest', 'matcher', 'sender', 'timer']);
  const distinct = new Set([...buses.values(), life.bus].map((b) => b.nc));
  t.equal(distinct.size, 5, 'four stage connections and the lifecycle one');

  const admin = await connectBus({ url: nats.url, name: 'test', logger: silentLogger });
  t.teardown(() => admin.close());
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  await putDestination(admin, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  await publishJourneyVersion(admin, journey(FORWARD));

  const disconnects = new Map([...buses].map(([stage, bus]) => [stage, countDrops(bus.nc)]));
  const ingest = buses.get('ingest')!;
  const total = 60;
  for (let i = 0; i < total; i++) {
    await admin.js.publish(
      'events.track',
      JSON.stringify({
        type: 'track',
        event: 'form_submitted',
        userId: `u${i % 7}`,
        messageId: `m${i}`,
        properties: { form_id: `f${i}` },
      }),
    );
    // Three times while events flow: a request whose control line is over the server's limit.
    if (i % 20 === 10) {
      const drops = disconnects.get('ingest')!;
      const before = drops.reconnects;
      ingest.nc.publish(`cairn.${'x'.repeat(5_000)}`, Empty);
      await waitUntil(() => drops.reconnects > before, 20_000, "ingest's connection closed and reopened");
    }
  }
  // Ingest's own messages in flight on its closed connection may use up their budget (2 here):
  // they are dead-lettered in dlq.ingest. Everything else is delivered.
  const dlqCount = async (subject: string): Promise<number> =>
    (await admin.jsm.streams.info(STREAMS.DLQ, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  await waitUntil(
    async () => sink.requests.length + (await dlqCount('dlq.ingest')) >= total,
    60_000,
    'every event delivered or refused by ingest',
  );
  t.equal(disconnects.get('ingest')!.disconnects, 3, "ingest's connection was closed three times");
  for (const stage of ['matcher', 'timer', 'sender'] as const)
    t.equal(disconnects.get(stage)!.disconnects, 0, `${stage}'s connection stayed up`);
  const ids = new Set(sink.requests.map((r) => String(r.headers['idempotency-key'])));
  // An event routed just before the close whose ack was lost with it comes back, and past its
  // budget it is dead-lettered although it was routed: delivered and in dlq.ingest both.
  const refused = await dlqCount('dlq.ingest');
  t.ok(
    ids.size >= total - refused && ids.size <= total,
    'every event ingest did not dead-letter is delivered',
  );
  t.equal(ids.size, sink.requests.length, 'no delivery twice');
  for (const subject of ['dlq.matcher', 'dlq.deliver'])
    t.equal(await dlqCount(subject), 0, `nothing in ${subject}`);
});
