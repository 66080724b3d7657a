// Versions end to end: publishing v2 with `--previous archive` ends v1's running instances (the
// CLI sweeps them with archive notices, applied in each user's order), so v1 sends nothing more,
// and new entries go to v2. An archived version whose instances no notice reached (archived
// without a sweep) ends them on their next input: here, the hold's timer, and sends nothing.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';

import { archiveJourney, BUCKETS, instanceCodec, instanceKvKey, type Bus } from '../../libs/bus/index.js';
import type { Instance } from '../../libs/journey/index.js';
import { runCli } from '../../services/cli/index.js';
import { waitUntil } from '../helpers/bus.js';
import { captureIo } from '../integration/cli/helpers.js';
import { journey, publishEvent, publishJourneys, startPipeline } from '../helpers/pipeline.js';

const cart = (version: string, holdS: number): string => `
id: cart
name: Cart ${version}
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: ${holdS}s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Nudge ${version}, next: end }
  - { id: thanks, type: send, to: [sink], event: Thanks ${version}, next: end }
  - { id: end, type: exit }
`;

const CART_HOLD_S = 8;
const LAZY_HOLD_S = 6;

const LAZY = `
id: lazy
name: Archived without a sweep
trigger: { event: signup_started }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: done, event: signup_completed, next: end }
    timeout: { after: ${LAZY_HOLD_S}s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Finish Signup, next: end }
  - { id: end, type: exit }
`;

async function instanceOf(
  bus: Bus,
  journeyId: string,
  userKey: string,
  key: string,
): Promise<Instance | undefined> {
  const kv = await bus.kv(BUCKETS.instances);
  const e = await kv.get(instanceKvKey(journeyId, userKey, key));
  return e?.operation === 'PUT' ? instanceCodec.decode(e.value) : undefined;
}

const eventName = (body: unknown): string => String((body as { event?: string }).event);

void t.test('archiving a version ends its running instances; new entries go to the new one', async (t) => {
  const { bus, sink, server } = await startPipeline(t);
  await publishJourneys(bus, journey(cart('v1', CART_HOLD_S)), journey(LAZY));
  const users = ['u1', 'u2', 'u3'];
  const startedAt = Date.now();
  for (const userId of users) {
    await publishEvent(bus, [
      'track',
      { userId, messageId: `${userId}-c1`, event: 'checkout_started', properties: { cart_id: 'c1' } },
    ]);
    await publishEvent(bus, [
      'track',
      { userId, messageId: `${userId}-s1`, event: 'signup_started', properties: { form_id: 's1' } },
    ]);
  }
  await waitUntil(
    async () => {
      for (const u of users) if ((await instanceOf(bus, 'cart', u, 'c1'))?.status !== 'active') return false;
      for (const u of users) if ((await instanceOf(bus, 'lazy', u, 's1'))?.status !== 'active') return false;
      return true;
    },
    15_000,
    'instances waiting in their holds',
  );

  // v2 through the CLI, archiving v1: the sweep sends each running v1 instance a notice.
  const dir = t.testdir({});
  const file = join(dir, 'cart-v2.yaml');
  await writeFile(file, cart('v2', 30));
  const io = captureIo({ NATS_URL: server.url, CAIRN_PARTITIONS: '4' });
  t.equal(
    await runCli(['journey', 'publish', file, '--previous', 'archive', '--allow-missing-destinations'], io),
    0,
    io.text(),
  );
  t.same(io.stdout.slice(-2), ['published cart v2', 'archived v1: ending its 3 running instance(s)']);
  // The other journey is archived without a sweep: its instances end when their timer fires.
  await archiveJourney(bus, 'lazy');

  await waitUntil(
    async () => {
      for (const u of users) {
        const c = await instanceOf(bus, 'cart', u, 'c1');
        const l = await instanceOf(bus, 'lazy', u, 's1');
        if (c?.status !== 'exited' || l?.status !== 'exited') return false;
      }
      return true;
    },
    15_000,
    'v1 and lazy instances ended',
  );
  for (const u of users) {
    const c = (await instanceOf(bus, 'cart', u, 'c1'))!;
    const l = (await instanceOf(bus, 'lazy', u, 's1'))!;
    t.equal(c.endReason, 'version_archived', `${u} cart v1 archived`);
    t.ok(
      c.updatedAt < c.enteredAt + CART_HOLD_S * 1_000,
      `${u} cart v1 ended by its notice, before its deadline`,
    );
    t.equal(l.endReason, 'version_archived', `${u} lazy archived`);
    t.ok(l.updatedAt >= l.enteredAt + LAZY_HOLD_S * 1_000, `${u} lazy ended on its next input: its timer`);
  }

  // New entries take v2; a purchase completes it at once.
  await publishEvent(bus, [
    'track',
    { userId: 'u1', messageId: 'u1-c2', event: 'checkout_started', properties: { cart_id: 'c2' } },
  ]);
  await publishEvent(bus, [
    'track',
    { userId: 'u1', messageId: 'u1-p2', event: 'purchase_completed', properties: { cart_id: 'c2' } },
  ]);
  await sink.waitFor((rs) => rs.some((r) => eventName(r.body) === 'Thanks v2'), 15_000);
  t.equal((await instanceOf(bus, 'cart', 'u1', 'c2'))?.version, 2, 'the new entry is on v2');

  // Past every v1 and lazy deadline, nothing of theirs was sent.
  await new Promise((r) => setTimeout(r, Math.max(0, startedAt + (CART_HOLD_S + 1.5) * 1_000 - Date.now())));
  t.same(
    sink.requests.map((r) => eventName(r.body)),
    ['Thanks v2'],
    'archived versions sent nothing; v2 sent its thanks',
  );
});

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], event: Form Submitted }
`;

void t.test(
  'a journey published while events flow matches at once; archived, it takes no entries',
  async (t) => {
    const { bus, sink } = await startPipeline(t);
    const sentAt = new Map<string, number>();
    let n = 0;
    let flowing = true;
    // Events keep flowing (one every 20 ms) across the publish and the archive; nothing restarts.
    const flow = (async () => {
      while (flowing) {
        const formId = `f${n++}`;
        sentAt.set(formId, Date.now());
        await publishEvent(bus, [
          'track',
          {
            userId: `u${n % 7}`,
            messageId: formId,
            event: 'form_submitted',
            properties: { form_id: formId },
          },
        ]);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    t.teardown(() => {
      flowing = false;
      return flow;
    });

    await new Promise((r) => setTimeout(r, 500));
    const publishedAt = Date.now();
    await publishJourneys(bus, journey(FORWARD));
    await sink.waitFor(20, 15_000);
    await new Promise((r) => setTimeout(r, Math.max(0, publishedAt + 2_500 - Date.now())));
    const archivedAt = Date.now();
    await archiveJourney(bus, 'forward');
    await new Promise((r) => setTimeout(r, 2_000));
    flowing = false;
    await flow;
    await new Promise((r) => setTimeout(r, 1_000));

    type Body = { properties: { journey_context: { form_submitted: { form_id: string } } } };
    const delivered = new Set(
      sink.requests.map((r) => (r.body as Body).properties.journey_context.form_submitted.form_id),
    );
    t.equal(delivered.size, sink.requests.length, 'each delivery names its form');
    const between = [...sentAt].filter(([, at]) => at > publishedAt + 1_000 && at < archivedAt - 1_000);
    const before = [...sentAt].filter(([, at]) => at < publishedAt);
    const after = [...sentAt].filter(([, at]) => at > archivedAt + 1_000);
    t.ok(
      between.length > 0 && before.length > 0 && after.length > 0,
      `events before (${before.length}), during (${between.length}) and after (${after.length})`,
    );
    t.same(
      between.filter(([id]) => !delivered.has(id)),
      [],
      'every event from a second after the publish to a second before the archive entered',
    );
    t.same(
      before.filter(([id]) => delivered.has(id)),
      [],
      'none from before the journey existed',
    );
    t.same(
      after.filter(([id]) => delivered.has(id)),
      [],
      'none a second after the archive',
    );
  },
);
