// Partition leases with real processes (dist/services/<name>/main.js): two replicas with the same
// ordinal, as in a rolling update or after a forced pod delete, never consume one partition at
// once. The second consumes nothing while the first holds the lease; a graceful stop of the first
// hands over at once; a first one frozen by SIGSTOP (its connection open, its renewals stopped)
// is taken over after the lease's lifetime, and once it wakes it handles no further message of
// the partition: a message sent after the takeover is handled exactly once, by the new owner.
import t from 'tap';

import {
  DeliverJobMessage,
  MatchEventMessage,
  parseDestinationFile,
  publishWithId,
  putDestination,
  STREAMS,
  subjects,
} from '../../libs/bus/index.js';
import { waitUntil, withBus } from '../helpers/bus.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { journey, publishJourneys } from '../helpers/pipeline.js';
import { track } from '../integration/matcher/helpers.js';
import { job } from '../integration/sender/helpers.js';
import { spawnService, type ServiceName, type ServiceProcess } from './processes.js';

const TTL_MS = 3_000;
/** A frozen holder's lease is taken no sooner than this after it froze: its last renewal was at
 * most a quarter of the lifetime before, and the taker waits ttl + margin (6/5 ttl) after it. */
const MIN_TAKEOVER_MS = 0.95 * TTL_MS;

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], event: Form Submitted }
`;

/** A value of a process's /metrics (0 when the series does not exist yet). */
async function metric(p: ServiceProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.metricsPort()}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function harness(t: { teardown(fn: () => unknown): void }, env: Record<string, string>) {
  const procs: ServiceProcess[] = [];
  t.teardown(async () => {
    for (const p of procs) {
      p.signal('SIGCONT');
      await p.kill();
    }
  });
  return {
    async start(name: ServiceName): Promise<ServiceProcess> {
      const p = spawnService(name, env);
      procs.push(p);
      await p.ready;
      return p;
    },
  };
}

const owned = (p: ServiceProcess, stage: string): Promise<number> =>
  metric(p, 'cairn_partitions_owned', { stage });
const handled = (p: ServiceProcess, stage: string, outcome?: string): Promise<number> =>
  metric(p, 'cairn_runner_messages_total', { stage, ...(outcome ? { outcome } : {}) });

void t.test('matcher: one consumer per partition across a rolling update and a frozen process', async (t) => {
  const { bus, server } = await withBus(t, { CAIRN_PARTITIONS: '1' });
  await putDestination(
    bus,
    parseDestinationFile({ id: 'sink', type: 'webhook', url: 'http://127.0.0.1:9/' }),
  );
  await publishJourneys(bus, journey(FORWARD));
  const h = harness(t, {
    NATS_URL: server.url,
    CAIRN_PARTITIONS: '1',
    CAIRN_LEASE_TTL: `${TTL_MS}ms`,
    CAIRN_ACK_WAIT: '2s',
    CAIRN_SHUTDOWN_GRACE: '1s',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
  });
  let sent = 0;
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const event = track(`user-${sent}`, 'form_submitted', { form_id: `f-${sent}` });
      sent++;
      await bus.js.publish(subjects.matchEvent(0), MatchEventMessage.encode({ v: 1, kind: 'event', event }), {
        msgID: event.messageId,
      });
    }
  };
  /** One deliver job per event handled (none consumes DELIVER here). */
  const jobs = async (): Promise<number> => (await bus.jsm.streams.info(STREAMS.DELIVER)).state.messages;

  const a = await h.start('matcher');
  const b = await h.start('matcher');
  t.equal(await owned(a, 'matcher'), 1, 'the first holds the partition');
  t.equal(await owned(b, 'matcher'), 0, 'the second, same ordinal, waits');
  // Past a lifetime plus margin: the holder renews, so the second never takes over meanwhile.
  await new Promise((r) => setTimeout(r, 2 * TTL_MS));
  await send(4);
  await waitUntil(async () => (await jobs()) === 4, 10_000, 'four events handled');
  t.equal(await handled(a, 'matcher', 'ack'), 4, 'all by the holder');
  t.equal(await handled(b, 'matcher'), 0, 'the second consumed nothing');
  t.equal(await owned(b, 'matcher'), 0);

  // A graceful stop (SIGTERM) drains, releases the lease, and the second takes it at once.
  const stopAt = Date.now();
  t.equal(await a.stop(), 0);
  const exitedAt = Date.now();
  await waitUntil(async () => (await owned(b, 'matcher')) === 1, 5_000, 'handover');
  const handover = Date.now() - exitedAt;
  t.comment(`handover: ${Date.now() - stopAt} ms after SIGTERM, ${handover} ms after the exit`);
  t.ok(handover <= 1_000, `taken within a second of the old holder's exit (${handover} ms)`);
  await send(3);
  await waitUntil(
    async () => (await handled(b, 'matcher', 'ack')) === 3,
    10_000,
    'three more by the new holder',
  );

  // A new replica with the same ordinal; then the holder freezes (connection open, no renewals).
  const c = await h.start('matcher');
  t.equal(await owned(c, 'matcher'), 0);
  b.signal('SIGSTOP');
  const frozenAt = Date.now();
  await waitUntil(async () => (await owned(c, 'matcher')) === 1, 20_000, 'takeover of a frozen holder');
  const takeover = Date.now() - frozenAt;
  t.comment(`takeover ${takeover} ms after SIGSTOP (lease ${TTL_MS} ms)`);
  t.ok(takeover >= MIN_TAKEOVER_MS, `not before the lease ran out (${takeover} ms)`);
  t.equal(await metric(c, 'cairn_lease_takeovers_total', { stage: 'matcher' }), 1, 'counted as a takeover');

  await send(1);
  await waitUntil(async () => (await jobs()) === 8, 10_000, 'the event after the takeover handled');
  t.equal(await handled(c, 'matcher', 'ack'), 1, 'by the new holder');

  // The frozen one wakes: it finds its lease gone and stops consuming before anything else.
  b.signal('SIGCONT');
  await waitUntil(async () => (await owned(b, 'matcher')) === 0, 10_000, 'the woken one gives up');
  t.ok((await metric(b, 'cairn_lease_losses_total', { stage: 'matcher' })) >= 1, 'its loss is counted');
  await send(2);
  await waitUntil(async () => (await jobs()) === 10, 10_000, 'events after the wake-up handled');
  await waitUntil(
    async () => (await bus.jsm.streams.info(STREAMS.MATCH)).state.messages === 0,
    10_000,
    'MATCH drained',
  );
  t.equal(await handled(c, 'matcher', 'ack'), 3, 'each event after the takeover once, by the new holder');
  t.equal(await handled(b, 'matcher'), 3, 'the woken one handled nothing more');
  t.equal(await jobs(), sent, 'one deliver job per event');
});

void t.test('sender: a frozen holder is taken over; each job is delivered once', async (t) => {
  const { bus, server } = await withBus(t, { CAIRN_PARTITIONS: '1' });
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  await putDestination(bus, parseDestinationFile({ id: 'crm', type: 'webhook', url: `${sink.url}/hook` }));
  const h = harness(t, {
    NATS_URL: server.url,
    CAIRN_PARTITIONS: '1',
    CAIRN_LEASE_TTL: `${TTL_MS}ms`,
    CAIRN_ACK_WAIT: '2s',
    CAIRN_SHUTDOWN_GRACE: '1s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
  });
  const ids: string[] = [];
  const deliver = async (): Promise<void> => {
    const j = job({ userKey: `user-${ids.length}` });
    ids.push(j.deliveryId);
    await publishWithId(bus.js, subjects.deliver(0), DeliverJobMessage.encode(j), j.deliveryId);
    await sink.waitFor((rs) => rs.some((r) => r.headers['idempotency-key'] === j.deliveryId), 10_000);
  };

  const a = await h.start('sender');
  const b = await h.start('sender');
  t.equal(await owned(a, 'sender'), 1);
  t.equal(await owned(b, 'sender'), 0);
  await deliver();
  await waitUntil(async () => (await handled(a, 'sender', 'ack')) === 1, 5_000, 'acked by the holder');

  a.signal('SIGSTOP');
  const frozenAt = Date.now();
  await waitUntil(async () => (await owned(b, 'sender')) === 1, 20_000, 'takeover');
  const takeover = Date.now() - frozenAt;
  t.comment(`takeover ${takeover} ms after SIGSTOP (lease ${TTL_MS} ms)`);
  t.ok(takeover >= MIN_TAKEOVER_MS, `not before the lease ran out (${takeover} ms)`);
  await deliver();
  a.signal('SIGCONT');
  await waitUntil(async () => (await owned(a, 'sender')) === 0, 10_000, 'the woken one gives up');
  await deliver();
  await waitUntil(
    async () => (await handled(b, 'sender', 'ack')) === 2,
    5_000,
    'both acked by the new holder',
  );

  // The new holder stops gracefully: the old one, awake, takes the partition back at once.
  const stopAt = Date.now();
  t.equal(await b.stop(), 0);
  await waitUntil(async () => (await owned(a, 'sender')) === 1, 5_000, 'handover back');
  t.comment(`handover ${Date.now() - stopAt} ms after SIGTERM`);
  await deliver();
  await waitUntil(
    async () => (await bus.jsm.streams.info(STREAMS.DELIVER)).state.messages === 0,
    10_000,
    'DELIVER drained',
  );
  t.equal(await handled(a, 'sender'), 2, 'the first sent the first and the last job, nothing else');
  const received = sink.requests.map((r) => String(r.headers['idempotency-key']));
  t.same(received.sort(), [...ids].sort(), 'each job delivered exactly once');
});
