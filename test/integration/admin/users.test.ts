// A user's instances, timers and journal timeline over the admin API, after real events went
// through ingest and the matcher: an entry, and refusals with their reasons.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- the JSON answers are checked field by field */
import t from 'tap';

import { publishJourneyVersion } from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { startLifecycle } from '../../../libs/telemetry/index.js';
import { startAllServices } from '../../../services/cli/up.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { journey } from '../../helpers/pipeline.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

const WELCOME = journey(`id: welcome
name: Welcome
trigger:
  event: signed_up
  where:
    properties.plan: { in: [pro] }
entry:
  mode: once
steps:
  - id: wait-a-day
    type: delay
    after: 1d
`);

void t.test('instances, timers and the timeline with refusal reasons', async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({
    ...TOKENS_ENV,
    NATS_URL: nats.url,
    CAIRN_PARTITIONS: '4',
    CAIRN_METRICS_PORT: '0',
    CAIRN_SHUTDOWN_GRACE: '1s',
  });
  const life = await startLifecycle({ name: 'up', config, logger: silentLogger, start: startAllServices });
  t.teardown(() => life.stop());
  await publishJourneyVersion(life.bus, WELCOME);
  const client = await withAdmin(t, life.bus, config);

  const signedUp = (n: number, plan: string) =>
    JSON.stringify({
      type: 'track',
      event: 'signed_up',
      userId: 'u-1',
      messageId: `m-${n}`,
      properties: { plan },
    });
  // The matcher learns of the journey by its watch: wait until an event enters.
  let n = 0;
  await waitUntil(
    async () => {
      await life.bus.js.publish('events.track', signedUp(++n, 'pro'));
      const r = await client.call('GET', '/api/v1/users/u-1', { token: READ_TOKEN });
      return r.body.instances?.length === 1;
    },
    30_000,
    'the user entered',
  );
  await life.bus.js.publish('events.track', signedUp(++n, 'free'));
  await life.bus.js.publish('events.track', signedUp(++n, 'pro'));

  let r = await client.call('GET', '/api/v1/users/u-1', { token: READ_TOKEN });
  await waitUntil(
    async () => {
      r = await client.call('GET', '/api/v1/users/u-1', { token: READ_TOKEN });
      const reasons = (r.body.timeline as Array<{ type: string; reason?: string }>)
        .filter((x) => x.type === 'refused')
        .map((x) => x.reason);
      return reasons.includes('filter_failed') && reasons.includes('already_entered');
    },
    30_000,
    'both refusals in the journal',
  );
  t.equal(r.status, 200);
  t.equal(r.body.userKey, 'u-1');
  t.match(r.body.instances, [
    {
      journeyId: 'welcome',
      version: 1,
      status: 'active',
      stepId: 'wait-a-day',
      waitUntil: /^\d{4}-/,
      enteredAt: /^\d{4}-/,
    },
  ]);
  t.match(r.body.timers, [
    { journeyId: 'welcome', stepId: 'wait-a-day', fireAt: r.body.instances[0].waitUntil },
  ]);
  const fireAt = Date.parse(r.body.timers[0].fireAt);
  t.ok(fireAt > Date.now() + 23 * 3_600_000, 'a day from the entry');
  const timeline = r.body.timeline as Array<{ type: string; reason?: string; at: string; journeyId: string }>;
  t.ok(timeline.every((x) => x.journeyId === 'welcome' && /^\d{4}-\d\d-\d\dT/.test(x.at)));
  const kinds = timeline.map((x) => (x.reason ? `${x.type}:${x.reason}` : x.type));
  const entered = kinds.indexOf('entered');
  t.ok(entered >= 0, `entered in ${kinds.join(', ')}`);
  t.ok(kinds.indexOf('refused:filter_failed') > entered, 'the free plan refused after the entry');
  t.ok(
    kinds.lastIndexOf('refused:already_entered') > kinds.indexOf('refused:filter_failed'),
    'then the repeat',
  );

  r = await client.call('GET', '/api/v1/users/nobody', { token: READ_TOKEN });
  t.same(
    { instances: r.body.instances, timers: r.body.timers, timeline: r.body.timeline },
    { instances: [], timers: [], timeline: [] },
  );
  r = await client.call('GET', '/api/v1/users/u-1?since=soon', { token: READ_TOKEN });
  t.equal(r.status, 400);
  t.match(r.body.error, { code: 'CAIRN_E_ADMIN_BAD_REQUEST', hint: /since=24h/ });
});
