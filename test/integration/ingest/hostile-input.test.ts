// Hostile input at the edge (DESIGN.md §5.9): an id too long for a subject or key, an event
// nested too deep. Each is refused with its own code — HTTP 400, or `dlq.ingest` on its first
// delivery — and never closes the connection that every stage of the process shares, while
// other users' events flow.
import type { Status } from '@nats-io/transport-node';
import t from 'tap';

import { JournalMessage, publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney } from '../../../libs/journey/index.js';
import { startMatcher } from '../../../services/matcher/index.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withIngest, type IngestHarness } from './helpers.js';

const KEY = 'wk_test';
const LONG = 'x'.repeat(3_000);

/** Every connection event the shared connection reports from now on. */
function watchStatus(h: IngestHarness): Status[] {
  const seen: Status[] = [];
  void (async () => {
    for await (const s of h.bus.nc.status()) seen.push(s);
  })();
  return seen;
}
const disconnects = (seen: Status[]) => seen.filter((s) => s.type === 'disconnect' || s.type === 'reconnect');

async function post(h: IngestHarness, path: string, body: string | object) {
  const res = await fetch(`http://127.0.0.1:${h.ingest.httpPort}/v1/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { success: boolean; code?: string; message?: string },
  };
}

/** `{…,"properties":{"a":[[…]]}}`: `depth` levels in all (10,000 levels are 20 KB). */
function nested(depth: number): string {
  return `{"userId":"deep","event":"Deep","properties":{"a":${'['.repeat(depth - 2)}1${']'.repeat(depth - 2)}}}`;
}

void t.test('ids too long for a key are refused on NATS; the connection stays up', async (t) => {
  const h = await withIngest(t);
  const status = watchStatus(h);
  const refused = [
    { userId: LONG, event: 'Long User' },
    { anonymousId: LONG, event: 'Long Anonymous' },
    { type: 'alias', userId: 'u-1', previousId: LONG },
    { type: 'group', userId: 'u-1', groupId: LONG },
  ];
  // Other users' events, published around the hostile ones.
  for (const [i, body] of refused.entries()) {
    await h.publish(`events.${body.type ?? 'track'}`, body);
    await h.publish('events.track', { userId: `calm-${i}`, event: 'Fine', messageId: `calm-${i}` });
  }
  await waitUntil(() => h.dlq.length === 4 && h.routed.length === 4, 15_000, 'refusals and routed events');
  t.same(
    h.dlq.map((r) => [r.reason, r.deliveryCount]),
    Array(4).fill(['CAIRN_E_EVENT_ID_TOO_LONG', 1]),
    'each refused on its first delivery with the code',
  );
  t.same(
    h.dlq.map((r) => /^(\w+) must be at most 256 characters/.exec(r.detail ?? '')?.[1]),
    ['userId', 'anonymousId', 'previousId', 'groupId'],
  );
  t.same(h.routed.map((r) => r.event.userKey).sort(), ['calm-0', 'calm-1', 'calm-2', 'calm-3']);
  // A 256-character id is accepted.
  await h.publish('events.track', { userId: 'y'.repeat(256), event: 'Fine', messageId: 'at-limit' });
  await waitUntil(() => h.routed.length === 5, 10_000, 'the id at the limit routed');
  t.same(disconnects(status), [], 'no disconnect');
});

void t.test('HTTP: an id too long or an event too deep is a 400 with its code; nothing stored', async (t) => {
  const h = await withIngest(t, { CAIRN_WRITE_KEYS: KEY }, { http: { port: 0 } });
  const status = watchStatus(h);
  const long = await post(h, 'track', { userId: LONG, event: 'X' });
  t.equal(long.status, 400);
  t.equal(long.body.code, 'CAIRN_E_EVENT_ID_TOO_LONG');
  t.match(long.body.message, /^userId must be at most 256 characters \(got 3000: "x{60}\.\.\.\)$/);
  const batch = await post(h, 'batch', {
    batch: [
      { type: 'track', userId: 'u-1', event: 'X' },
      { type: 'alias', userId: 'u-1', previousId: LONG },
    ],
  });
  t.equal(batch.status, 400);
  t.equal(batch.body.code, 'CAIRN_E_EVENT_ID_TOO_LONG');
  t.match(batch.body.message, /^batch\[1\]\.previousId must be at most 256/);
  const messageId = await post(h, 'track', { userId: 'u-1', event: 'X', messageId: 'm'.repeat(101) });
  t.equal(messageId.body.code, 'CAIRN_E_EVENT_MESSAGE_ID_TOO_LONG');

  const deep = await post(h, 'track', nested(10_000));
  t.equal(deep.status, 400, 'a 10,000-deep event is a 400, not a retryable 500');
  t.equal(deep.body.code, 'CAIRN_E_EVENT_TOO_DEEP');
  t.match(deep.body.message, /more than 32 levels/);
  const sharedDeep = await post(h, 'batch', {
    context: JSON.parse(nested(40)) as object,
    batch: [{ type: 'track', userId: 'u-1', event: 'X' }],
  });
  t.equal(sharedDeep.body.code, 'CAIRN_E_EVENT_TOO_DEEP', "the batch's shared context counts");
  t.equal((await post(h, 'track', nested(32))).status, 200, '32 levels are accepted');
  t.equal((await post(h, 'track', nested(33))).body.code, 'CAIRN_E_EVENT_TOO_DEEP', '33 are not');

  await waitUntil(() => h.routed.length === 1, 10_000, 'the accepted event routed');
  t.equal((await h.bus.jsm.streams.info('EVENTS')).state.messages, 1, 'only the accepted event was stored');
  t.same(disconnects(status), []);
});

void t.test('NATS: an event nested 10,000 deep goes to the DLQ with its code at once', async (t) => {
  const h = await withIngest(t);
  await h.publish('events.track', new TextEncoder().encode(nested(10_000)));
  await h.publish('events.track', { userId: 'calm', event: 'Fine', messageId: 'calm' });
  await waitUntil(() => h.dlq.length === 1 && h.routed.length === 1, 15_000, 'refusal and routed event');
  t.equal(h.dlq[0]!.reason, 'CAIRN_E_EVENT_TOO_DEEP');
  t.equal(h.dlq[0]!.deliveryCount, 1, 'on its first delivery, not as max_deliver');
});

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

void t.test('a uniqueBy value of 20,000 characters reads a bounded key; the matcher goes on', async (t) => {
  const h = await withIngest(t);
  const status = watchStatus(h);
  const matcher = await startMatcher({
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => matcher.stop(1_000));
  const parsed = parseJourney(CART);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await publishJourneyVersion(h.bus, parsed.journey);
  const journal: { type: string; userKey: string; reason?: string }[] = [];
  const sub = h.bus.nc.subscribe('journal.>', {
    callback: (_e, m) => {
      journal.push(...JournalMessage.decode(m.data));
    },
  });
  t.teardown(() => sub.unsubscribe());
  await waitUntil(() => matcher.isReady(), 10_000, 'matcher ready');

  const huge = 'c'.repeat(20_000);
  // A hold event with the huge key (the matcher looks for its instance), then an entry with it.
  await h.publish('events.track', { userId: 'u-long', event: 'Paid', properties: { cart_id: huge } });
  await h.publish('events.track', { userId: 'u-long', event: 'Cart Created', properties: { cart_id: huge } });
  await h.publish('events.track', { userId: 'u-calm', event: 'Cart Created', properties: { cart_id: 'c1' } });
  await waitUntil(
    () => journal.some((r) => r.userKey === 'u-calm' && r.type === 'entered'),
    15_000,
    'the other user entered',
  );
  await waitUntil(
    () => journal.some((r) => r.userKey === 'u-long' && r.type === 'refused'),
    15_000,
    'the huge key refused',
  );
  t.equal(journal.find((r) => r.userKey === 'u-long')?.reason, 'unique_by_missing');
  await waitUntil(
    async () => (await h.bus.jsm.streams.info('MATCH')).state.messages === 0,
    10_000,
    'every match input acked',
  );
  t.same(disconnects(status), [], 'no disconnect');
});
