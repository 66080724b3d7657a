// A real @segment/analytics-node client, pointed at Cairn with `host` and nothing else changed,
// drives journeys to a webhook: identify traits reach the payload, a fed audience gates a
// trigger, a computed audience steers a data_split, and an alias makes the anonymous id's later
// events reach the known user's profile. Every service runs against a real nats-server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Analytics } from '@segment/analytics-node';
import t from 'tap';

import { publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney, type JourneyDocument } from '../../../libs/journey/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { startPipeline } from '../../helpers/pipeline.js';

const WRITE_KEY = 'wk_node';

const JOURNEYS = [
  `
id: checkout
name: Checkout receipt
trigger: { event: Checkout Started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - { id: receipt, type: send, to: [sink], event: Receipt, payload: { email: profile.traits.email, cart: entry.properties.cart_id } }
`,
  `
id: vip-offer
name: VIP offer
trigger: { event: Offer Viewed, audience: vip }
entry: { mode: every_time, uniqueBy: properties.offer_id }
steps:
  - { id: offer, type: send, to: [sink], event: VIP Offer, payload: { offer: entry.properties.offer_id } }
`,
  `
id: plan-route
name: Plan route
trigger: { event: Plan Checked }
entry: { mode: every_time, uniqueBy: properties.check_id }
steps:
  - id: route
    type: data_split
    branches:
      - { id: pro, where: { profile.audiences: { contains: pro-users } }, next: pro-send }
    else: std-send
  - { id: pro-send, type: send, to: [sink], event: Pro, next: end }
  - { id: std-send, type: send, to: [sink], event: Standard, next: end }
  - { id: end, type: exit }
`,
];

function journey(text: string): JourneyDocument {
  const parsed = parseJourney(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.journey;
}

void t.test('@segment/analytics-node against Cairn drives journeys to a webhook', async (t) => {
  const dir = t.testdir();
  const audiencesFile = join(dir, 'audiences.yaml');
  await writeFile(audiencesFile, 'audiences:\n  - { id: pro-users, where: { traits.plan: pro } }\n');
  const { bus, sink, ingest, metrics } = await startPipeline(
    t,
    { CAIRN_WRITE_KEYS: `${WRITE_KEY}:node-server`, CAIRN_AUDIENCES_FILE: audiencesFile },
    { http: { port: 0 } },
  );
  for (const text of JOURNEYS) await publishJourneyVersion(bus, journey(text));

  const errors: unknown[] = [];
  const client = (): Analytics => {
    const a = new Analytics({
      writeKey: WRITE_KEY,
      host: `http://127.0.0.1:${ingest.httpPort}`,
      maxRetries: 0,
    });
    a.on('error', (err) => errors.push(err));
    return a;
  };
  const profileOf = async (userKey: string): Promise<Record<string, unknown> | undefined> => {
    const kv = await bus.kv('profiles');
    const e = await kv.get(Buffer.from(userKey).toString('base64url'));
    return e?.operation === 'PUT' ? (e.json<Record<string, unknown>>() ?? undefined) : undefined;
  };

  // 1. Identify, join the fed audience, link the anonymous id; one batch, as the library sends it.
  const first = client();
  first.identify({ userId: 'u1', traits: { email: 'u1@example.com', plan: 'pro' } });
  first.identify({ userId: 'u2', traits: { email: 'u2@example.com', plan: 'free' } });
  first.track({ userId: 'u1', event: 'Audience Entered', properties: { audience_key: 'vip' } });
  first.alias({ previousId: 'anon-1', userId: 'u1' });
  await first.closeAndFlush();
  t.same(errors, [], 'the client saw no error');
  await waitUntil(
    async () =>
      (await profileOf('anon-1'))?.['aliasOf'] === 'u1' &&
      ((await profileOf('u1'))?.['audiences'] as string[] | undefined)?.includes('vip') === true,
    10_000,
    'identity and the audience event applied (different users: no order between them)',
  );
  t.match(await profileOf('u1'), {
    traits: { email: 'u1@example.com', plan: 'pro' },
    audiences: ['pro-users', 'vip'],
  });
  t.match(await profileOf('u2'), { audiences: [] });

  // 2. The events that trigger journeys, in a second batch.
  const second = client();
  second.track({ userId: 'u1', event: 'Checkout Started', properties: { cart_id: 'c1' } });
  second.track({ userId: 'u2', event: 'Offer Viewed', properties: { offer_id: 'o1' } });
  second.track({ anonymousId: 'anon-1', event: 'Offer Viewed', properties: { offer_id: 'o2' } });
  second.track({ userId: 'u1', event: 'Plan Checked', properties: { check_id: 'k1' } });
  second.track({ userId: 'u2', event: 'Plan Checked', properties: { check_id: 'k2' } });
  await second.closeAndFlush();
  t.same(errors, [], 'the client saw no error');

  const arrived = await sink.waitFor(4, 20_000);
  const byEvent = (name: string) =>
    arrived.filter((r) => {
      const b = r.body as { event?: string; [k: string]: unknown };
      return b.event === name || JSON.stringify(b).includes(`"${name}"`);
    });
  const receipt = arrived.find((r) => (r.body as { cart?: string }).cart === 'c1');
  t.match(receipt?.body, { email: 'u1@example.com', cart: 'c1' }, 'identify traits reach the payload');
  const offers = arrived.flatMap((r) => {
    const offer = (r.body as { offer?: string }).offer;
    return offer === undefined ? [] : [offer];
  });
  t.same(
    offers,
    ['o2'],
    'only the aliased anonymous id (in vip through u1) got the VIP offer; u2 is not in vip',
  );
  t.equal(byEvent('Pro').length, 1, 'the computed audience sends u1 down the pro branch');
  t.equal(byEvent('Standard').length, 1, 'u2 goes to else');
  t.equal(arrived.length, 4, 'nothing else was delivered');
  const stats = await metrics.registry.getSingleMetricAsString('cairn_http_events_total');
  t.match(stats, /type="track"\} 6/);
  t.match(stats, /type="identify"\} 2/);
});
