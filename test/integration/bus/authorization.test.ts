// The shipped NATS authorization (libs/bus/permissions.ts, deploy/nats/auth.conf) against a real
// nats-server started with it: a producer can publish events and nothing internal, cannot read
// profiles nor another user's replies; and the pipeline runs end to end with every service on
// its own user, without one permission violation.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, Empty, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import t from 'tap';

import {
  BUCKETS,
  BusCodes,
  connectBus,
  connectOptionsOf,
  encodeKey,
  parseDestinationFile,
  provision,
  publishJourneyVersion,
  putDestination,
  renderAuthConf,
  STREAMS,
  type Bus,
  type Role,
} from '../../../libs/bus/index.js';
import { loadConfig, type Config } from '../../../libs/config/index.js';
import { createMetrics, type RunningService, type ServiceContext } from '../../../libs/telemetry/index.js';
import { writeCredentials } from '../../../services/cli/auth.js';
import { startIngest } from '../../../services/ingest/index.js';
import { readJourneyStats } from '../../../libs/insight/index.js';
import { startMatcher } from '../../../services/matcher/index.js';
import { startSender } from '../../../services/sender/index.js';
import { startTimer } from '../../../services/timer/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { withNats, type NatsServerHandle } from '../../helpers/nats-server.js';
import { journey, startUp } from '../../helpers/pipeline.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

interface Secured {
  server: NatsServerHandle;
  dir: string;
  config: (role: Role) => Config;
}

/** A nats-server started with the configuration `cairn auth init` writes. */
async function securedNats(t: Teardownable): Promise<Secured> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeCredentials(dir);
  const server = await withNats(t, { args: ['-c', join(dir, 'auth.conf')] });
  const config = (role: Role): Config =>
    loadConfig({
      NATS_URL: server.url,
      NATS_NKEY: join(dir, `${role}.nk`),
      CAIRN_PARTITIONS: '2',
      CAIRN_TIMER_BUCKET: '1s',
      CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    });
  return { server, dir, config };
}

/** A Cairn bus as `role`, with every permission violation the server reports collected. */
async function busAs(t: Teardownable, s: Secured, role: Role, violations: string[]): Promise<Bus> {
  const config = s.config(role);
  const bus = await connectBus({
    url: config.natsUrl,
    name: `test-${role}`,
    logger: silentLogger,
    ...connectOptionsOf(config, role === 'up' ? 'ingest' : role),
  });
  watchViolations(bus.nc, role, violations);
  t.teardown(() => bus.close());
  return bus;
}

function watchViolations(nc: NatsConnection, who: string, out: string[]): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && /permission/i.test(String(s.error))) out.push(`${who}: ${String(s.error)}`);
    }
  })();
}

/** A plain nats.js client as a producer would run it (default reply prefix). */
async function producer(t: Teardownable, s: Secured): Promise<{ nc: NatsConnection; violations: string[] }> {
  const seed = (await readFile(join(s.dir, 'producer.nk'), 'utf8')).trim();
  const nc = await connect({
    servers: s.server.url,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
  });
  const violations: string[] = [];
  watchViolations(nc, 'producer', violations);
  t.teardown(() => nc.close());
  return { nc, violations };
}

void t.test('deploy/nats/auth.conf is the configuration the code renders', async (t) => {
  const shipped = await readFile(new URL('../../../deploy/nats/auth.conf', import.meta.url), 'utf8');
  t.equal(shipped, renderAuthConf(), 'regenerate it with `cairn auth init` and copy auth.conf');
});

void t.test('a producer publishes events and nothing else', async (t) => {
  const s = await securedNats(t);
  const admin = await busAs(t, s, 'admin', []);
  await provision(admin, s.config('admin'), silentLogger);
  const profiles = await admin.kv(BUCKETS.profiles);
  await profiles.put(
    encodeKey('u1'),
    new TextEncoder().encode('{"v":1,"traits":{"email":"a@b.c"},"audiences":[]}'),
  );

  const { nc, violations } = await producer(t, s);
  const js = jetstream(nc, { timeout: 2_000 });
  const ack = await js.publish('events.track', JSON.stringify({ type: 'track', event: 'e', userId: 'u1' }));
  t.equal(ack.stream, STREAMS.EVENTS, 'events.> is allowed, with its ack');

  const forbidden = [
    'match.0.event',
    'match.1.timer',
    'deliver.0',
    'timers.0.1',
    'journal.x.0',
    'dlq.deliver',
    `$KV.profiles.${encodeKey('u1')}`,
    '$KV.journeys.x',
    '$KV.destinations.x',
    '$KV.instances.x',
  ];
  for (const subject of forbidden) nc.publish(subject, new TextEncoder().encode('forged'));
  await nc.flush();
  await waitUntil(() => violations.length >= forbidden.length, 10_000, 'a violation per forged publish');
  for (const subject of forbidden)
    t.ok(
      violations.some((v) => v.includes(`"${subject}"`)),
      `${subject}: refused by the server`,
    );
  for (const stream of [STREAMS.MATCH, STREAMS.DELIVER, STREAMS.TIMERS, STREAMS.JOURNAL, STREAMS.DLQ]) {
    t.equal((await admin.jsm.streams.info(stream)).state.messages, 0, `${stream} holds nothing forged`);
  }
  const stored = await profiles.get(encodeKey('u1'));
  t.match(new TextDecoder().decode(stored!.value), /a@b\.c/, 'the profile is untouched');

  // Reading a profile: direct get, message get, a KV handle, a watch on its subjects.
  const key = `$KV.profiles.${encodeKey('u1')}`;
  await t.rejects(
    nc.request(`$JS.API.DIRECT.GET.KV_profiles.${key}`, Empty, { timeout: 2_000 }),
    'direct get',
  );
  await t.rejects(
    nc.request('$JS.API.STREAM.MSG.GET.KV_profiles', JSON.stringify({ last_by_subj: key }), {
      timeout: 2_000,
    }),
    'message get',
  );
  await t.rejects(
    new Kvm(js).open('profiles').then((kv) => kv.get(encodeKey('u1'))),
    'kv handle',
  );
  await t.rejects(
    jetstreamManager(nc, { timeout: 2_000 }).then((m) => m.streams.info('KV_profiles')),
    'stream info',
  );
  // Subscriptions: the profile subjects, the internal ones, a service's replies.
  for (const subject of [
    '$KV.profiles.>',
    'match.>',
    'deliver.>',
    '_INBOX_cairn_ingest.>',
    '_INBOX_cairn_matcher.>',
    '>',
  ]) {
    const before = violations.length;
    nc.subscribe(subject);
    await nc.flush();
    await waitUntil(() => violations.length > before, 10_000, `a violation for subscribing to ${subject}`);
    t.match(violations.at(-1), /subscription/i, `subscribe ${subject}: refused`);
  }
});

void t.test('a service cannot act as another: ingest may not publish jobs or timers', async (t) => {
  const s = await securedNats(t);
  const violations: string[] = [];
  const admin = await busAs(t, s, 'admin', []);
  await provision(admin, s.config('admin'), silentLogger);
  const ingest = await busAs(t, s, 'ingest', violations);
  for (const subject of ['deliver.0', 'timers.0.1', 'match.0.timer', '$KV.journeys.x', '$KV.sent.x'])
    ingest.nc.publish(subject, new TextEncoder().encode('forged'));
  await ingest.nc.flush();
  await waitUntil(() => violations.length >= 5, 10_000, 'a violation per forged publish');
  t.equal((await admin.jsm.streams.info(STREAMS.DELIVER)).state.messages, 0);
});

void t.test('wrong or missing credentials are refused with CAIRN_E_BUS_UNAUTHORIZED', async (t) => {
  const s = await securedNats(t);
  await t.rejects(connectBus({ url: s.server.url, name: 'anonymous', logger: silentLogger }), {
    code: BusCodes.UNAUTHORIZED,
  });
  await t.rejects(
    connectBus({ url: s.server.url, name: 'x', logger: silentLogger, nkey: join(s.dir, 'keys.conf') }),
    { code: BusCodes.CREDENTIALS_UNREADABLE },
  );
});

const FLOW = `
id: signup
name: Signup
trigger: { event: signed_up }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: paid, event: paid, next: thanks }
    timeout: { after: 1s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Nudge, payload: { email: profile.traits.email }, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

void t.test('the pipeline runs end to end with each service on its own user', async (t) => {
  const s = await securedNats(t);
  const violations: string[] = [];
  const admin = await busAs(t, s, 'admin', violations);
  await provision(admin, s.config('admin'), silentLogger);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());

  const started: RunningService[] = [];
  for (const [role, start] of [
    ['sender', startSender],
    ['timer', startTimer],
    ['matcher', startMatcher],
    ['ingest', startIngest],
  ] as const) {
    const config = s.config(role);
    const bus = await busAs(t, s, role, violations);
    // Each service provisions at start, as its process does.
    await provision(bus, config, silentLogger);
    const ctx: ServiceContext = {
      config,
      bus,
      logger: silentLogger,
      metrics: createMetrics({ defaultMetrics: false }),
    };
    started.push(await start(ctx));
  }
  t.teardown(async () => {
    for (const svc of started.reverse()) await svc.stop(2_000);
  });

  await putDestination(admin, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  await publishJourneyVersion(admin, journey(FLOW));

  const { nc } = await producer(t, s);
  const js = jetstream(nc, { timeout: 5_000 });
  const send = (body: Record<string, unknown>) =>
    js.publish(`events.${String(body['type'])}`, JSON.stringify(body));
  await send({ type: 'identify', userId: 'u1', messageId: 'm1', traits: { email: 'u1@example.com' } });
  await send({ type: 'identify', userId: 'u2', messageId: 'm2', traits: { email: 'u2@example.com' } });
  // u1 pays (an event path); u2 does not (the timer path, parked by the matcher, fired by the timer).
  await send({
    type: 'track',
    event: 'signed_up',
    userId: 'u1',
    messageId: 'm3',
    properties: { form_id: 'f1' },
  });
  await send({
    type: 'track',
    event: 'signed_up',
    userId: 'u2',
    messageId: 'm4',
    properties: { form_id: 'f2' },
  });
  await send({ type: 'track', event: 'paid', userId: 'u1', messageId: 'm5', properties: { form_id: 'f1' } });

  await waitUntil(() => sink.requests.length >= 2, 30_000, 'both deliveries');
  const events = sink.requests.map((r) => (r.body as { event?: string; email?: string }).event ?? 'payload');
  t.equal(sink.requests.length, 2);
  t.ok(
    sink.requests.some((r) => (r.body as { email?: string }).email === 'u2@example.com'),
    `u2's nudge carries its profile (${events.join(', ')})`,
  );
  // The journal projection runs in the matcher, as its user: both entries are counted.
  await waitUntil(
    async () => (await readJourneyStats(admin, { journeyId: 'signup' })).entered === 2,
    30_000,
    'the journal counted by the matcher',
  );
  t.same(violations, [], 'no permission violation anywhere');
  const dlq = await admin.jsm.streams.info(STREAMS.DLQ);
  t.equal(dlq.state.messages, 0, 'nothing dead-lettered');
});

void t.test('`cairn up` runs every stage with the up user', async (t) => {
  const s = await securedNats(t);
  const violations: string[] = [];
  const config = { ...s.config('up'), metricsPort: 0 };
  const life = await startUp(t, config, (stage, bus) => watchViolations(bus.nc, `up/${stage}`, violations));
  watchViolations(life.bus.nc, 'up', violations);
  await waitUntil(() => life.isReady(), 15_000, 'every service ready');
  await life.bus.js.publish('events.track', JSON.stringify({ type: 'track', event: 'e', userId: 'u1' }));
  await waitUntil(
    async () => (await life.bus.jsm.consumers.info(STREAMS.EVENTS, 'ingest')).num_ack_pending === 0,
    10_000,
    'the event handled',
  );
  await life.stop();
  t.same(violations, [], 'no permission violation');
});
