// Per-user limits (Segment's defaults: 25 events/s, 25 concurrent instances): over a limit the
// entry is refused for the journey, journaled with the reason, and counted with the journey
// label — never dropped silently. Ingest and matcher on a real nats-server.
import t from 'tap';

import { JournalMessage, publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney } from '../../../libs/journey/index.js';
import { startMatcher } from '../../../services/matcher/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

const CART = `
id: carts
name: Carts
trigger: { event: Cart Created }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: paid, event: Paid, next: done }
    timeout: { after: 1h, next: done }
  - { id: done, type: exit }
`;

const FORMS = `
id: forms
name: Forms
trigger: { event: Form Started }
entry: { mode: once }
steps:
  - { id: wait, type: delay, after: 1h }
`;

interface Journaled {
  type: string;
  reason?: string | undefined;
  userKey: string;
}

void t.test('25 events/s and 25 concurrent instances per user: refused, journaled, counted', async (t) => {
  const h = await withIngest(t);
  const matcher = await startMatcher({
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => matcher.stop(1_000));
  for (const text of [CART, FORMS]) {
    const parsed = parseJourney(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    await publishJourneyVersion(h.bus, parsed.journey);
  }
  const journal: Journaled[] = [];
  const sub = h.bus.nc.subscribe('journal.>', {
    callback: (_e, m) => {
      journal.push(...JournalMessage.decode(m.data));
    },
  });
  t.teardown(() => sub.unsubscribe());
  await waitUntil(() => matcher.isReady(), 10_000, 'matcher ready');

  const cart = (user: string, i: number) =>
    h.publish('events.track', {
      userId: user,
      event: 'Cart Created',
      messageId: `${user}-${i}`,
      properties: { cart_id: `c${i}` },
    });
  // A burst of 30 within a second: 25 enter, 5 are refused for the rate.
  const started = Date.now();
  await Promise.all(Array.from({ length: 30 }, (_, i) => cart('busy', i)));
  t.ok(Date.now() - started < 1_000, 'the burst took under a second');
  const count = (type: string, reason?: string) =>
    journal.filter(
      (r) => r.userKey === 'busy' && r.type === type && (reason === undefined || r.reason === reason),
    ).length;
  await waitUntil(() => count('entered') + count('refused') === 30, 15_000, 'every entry decided');
  t.equal(count('entered'), 25);
  t.equal(count('refused', 'rate_limited'), 5);

  // A second later the rate allows entries again, but 25 instances are running: refused too.
  await waitUntil(() => Date.now() - started > 1_500, 5_000, 'the rate window to pass');
  await cart('busy', 100);
  await waitUntil(() => count('refused', 'per_user_limit') === 1, 10_000, 'concurrency refusal');
  t.equal(count('entered'), 25, 'still 25');

  // The limit is per user across journeys (as Segment's): another journey refuses 'busy' too.
  await h.publish('events.track', { userId: 'busy', event: 'Form Started', messageId: 'busy-form' });
  await waitUntil(() => count('refused', 'per_user_limit') === 2, 10_000, 'refused in another journey');
  t.equal(count('entered'), 25, 'still 25 across journeys');

  // Another user is not affected.
  await cart('calm', 1);
  await waitUntil(
    () => journal.some((r) => r.userKey === 'calm' && r.type === 'entered'),
    10_000,
    'calm entered',
  );

  const metric = await h.metrics.registry.getSingleMetricAsString('cairn_user_limit_refusals_total');
  t.match(metric, /journey="carts",limit="events_per_second"\} 5/);
  t.match(metric, /journey="carts",limit="concurrent_instances"\} 1/);
  t.match(metric, /journey="forms",limit="concurrent_instances"\} 1/);
});
