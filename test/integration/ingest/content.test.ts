// Content no encoding downstream keeps as sent, end to end through ingest: a `__proto__` key
// (properties and traits alike) and a lone surrogate are refused on both doors, 400 with the code
// on HTTP and dlq.ingest on NATS, while a clean event of the same user flows.
import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withIngest } from './helpers.js';

const KEY = 'wk_content';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

const bodies: Array<[string, string, string]> = [
  // name, subject type, JSON text as a producer sends it
  ['properties.__proto__', 'track', '{"userId":"u1","event":"E","properties":{"__proto__":{"x":1}}}'],
  ['traits.__proto__', 'identify', '{"userId":"u1","traits":{"__proto__":{"x":1}}}'],
  ['a lone surrogate in userId', 'track', '{"userId":"u\\ud800","event":"E"}'],
];
const CODES = ['CAIRN_E_EVENT_FORBIDDEN_KEY', 'CAIRN_E_EVENT_FORBIDDEN_KEY', 'CAIRN_E_EVENT_LONE_SURROGATE'];

void t.test('refused on HTTP with a 400 and its code', async (t) => {
  const h = await withIngest(t, { CAIRN_WRITE_KEYS: KEY }, { http: { port: 0 } });
  for (const [i, [name, type, text]] of bodies.entries()) {
    const res = await fetch(`http://127.0.0.1:${h.ingest.httpPort}/v1/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: AUTH },
      body: text,
    });
    const answer = (await res.json()) as { code?: string; message?: string };
    t.equal(res.status, 400, name);
    t.equal(answer.code, CODES[i], name);
  }
  t.equal((await h.bus.jsm.streams.info('EVENTS')).state.messages, 0, 'nothing stored');
});

void t.test('refused on NATS to dlq.ingest with its code; a clean event flows', async (t) => {
  const h = await withIngest(t);
  const encoder = new TextEncoder();
  for (const [, type, text] of bodies) await h.publish(`events.${type}`, encoder.encode(text));
  await h.publish('events.track', { userId: 'u1', event: 'Clean', messageId: 'clean-1' });
  await waitUntil(() => h.dlq.length === 3 && h.routed.length === 1, 15_000, 'refusals and the clean event');
  // Handled concurrently: matched by field, not by order.
  const byField = new Map(h.dlq.map((r) => [(r.detail ?? '').split(':')[0], r.reason]));
  t.strictSame(
    Object.fromEntries(byField),
    {
      'properties.__proto__': 'CAIRN_E_EVENT_FORBIDDEN_KEY',
      'traits.__proto__': 'CAIRN_E_EVENT_FORBIDDEN_KEY',
      userId: 'CAIRN_E_EVENT_LONE_SURROGATE',
    },
    'properties and traits alike: neither reaches a journey altered',
  );
  t.equal(h.routed[0]?.event.messageId, 'clean-1');
});
