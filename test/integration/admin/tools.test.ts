// The token's identity, and the draft editor's tools: a send step's payload previewed for a sample
// event, and a simulation of a draft over ndjson events, with the CLI's errors and the size bounds.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- the JSON answers are checked field by field */
import t from 'tap';

import { withBus } from '../../helpers/bus.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

const DRAFT = `id: cart
name: Cart
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: bought, event: purchase_completed, next: thanks }
    timeout: { after: 1h, next: nudge }
  - id: nudge
    type: send
    to: [sink]
    event: Cart Abandoned
    payload:
      cart: entry.properties.cart_id
    next: end
  - { id: thanks, type: send, to: [sink], event: Thanks, next: end }
  - { id: end, type: exit }
`;

void t.test('whoami names the token and its role', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const write = await client.call('GET', '/api/v1/whoami');
  t.equal(write.status, 200);
  t.same(write.body, { name: 'ops', role: 'write' });
  const read = await client.call('GET', '/api/v1/whoami', { token: READ_TOKEN });
  t.same(read.body, { name: 'dash', role: 'read' });
  const none = await client.call('GET', '/api/v1/whoami', { token: null });
  t.equal(none.status, 401);
  t.equal(none.body.error.code, 'CAIRN_E_ADMIN_UNAUTHORIZED');
});

void t.test('preview: the payload of a send step, and the errors of `cairn journey preview`', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const event = { event: 'checkout_started', userId: 'u1', properties: { cart_id: 'c-9' } };
  const ok = await client.call('POST', '/api/v1/preview', {
    token: READ_TOKEN,
    body: { source: DRAFT, stepId: 'nudge', event },
  });
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  t.equal(ok.body.journeyId, 'cart');
  // The step's payload mapping: the keys it names, and the step key.
  t.equal(ok.body.payload.cart, 'c-9', JSON.stringify(ok.body.payload));
  t.equal(ok.body.payload._cairn.step_key.stepId, 'nudge');
  const thanks = await client.call('POST', '/api/v1/preview', {
    body: { source: DRAFT, stepId: 'thanks', event },
  });
  t.equal(thanks.body.payload.event, 'Thanks', 'the default: a Segment track event');
  t.equal(thanks.body.payload.userId, 'u1');
  t.ok(ok.body.bytes > 0 && ok.body.bytes <= ok.body.maxPayloadBytes);

  const notSend = await client.call('POST', '/api/v1/preview', {
    body: { source: DRAFT, stepId: 'wait', event },
  });
  t.equal(notSend.status, 400);
  t.match(notSend.body.error.code, /NOT_A_SEND_STEP$/);
  t.equal(notSend.body.error.hint, 'Send steps of cart: nudge, thanks');

  const anonymous = await client.call('POST', '/api/v1/preview', {
    body: { source: DRAFT, stepId: 'nudge', event: { event: 'checkout_started' } },
  });
  t.equal(anonymous.status, 400);
  t.equal(anonymous.body.error.message, 'event has neither userId nor anonymousId');

  const invalid = await client.call('POST', '/api/v1/preview', {
    body: {
      source: DRAFT.replace('next: end\n  - { id: thanks', 'next: nowhere\n  - { id: thanks'),
      stepId: 'nudge',
      event,
    },
  });
  t.equal(invalid.status, 400);
  t.equal(invalid.body.error.code, 'CAIRN_E_JOURNEY_INVALID');
  t.ok(invalid.body.error.problems.length > 0, 'the problems at their lines');

  const big = await client.call('POST', '/api/v1/preview', {
    body: { source: `${DRAFT}#${'x'.repeat(256 * 1024)}`, stepId: 'nudge', event },
  });
  t.equal(big.status, 400);
  t.equal(big.body.error.code, 'CAIRN_E_ADMIN_BAD_REQUEST');
  t.match(big.body.error.message, /source/);
});

void t.test('simulate: deliveries and journal of the draft over ndjson events', async (t) => {
  const { bus, config } = await withBus(t, TOKENS_ENV);
  const client = await withAdmin(t, bus, config);
  const events = [
    { at: '0s', name: 'checkout_started', userId: 'u1', properties: { cart_id: 'c-1' } },
    { at: '1s', name: 'checkout_started', userId: 'u2', properties: { cart_id: 'c-2' } },
    { at: '5m', name: 'purchase_completed', userId: 'u2', properties: { cart_id: 'c-2' } },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n');
  const res = await client.call('POST', '/api/v1/simulate', {
    token: READ_TOKEN,
    body: { source: DRAFT, events },
  });
  t.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
  const sent = res.body.deliveries.map((d: { stepId: string; payload: Record<string, unknown> }) => [
    d.stepId,
    d.payload['event'] ?? d.payload['cart'],
  ]);
  t.same(sent.sort(), [
    ['nudge', 'c-1'],
    ['thanks', 'Thanks'],
  ]);
  const entered = res.body.journal.filter((r: { type: string }) => r.type === 'entered');
  t.equal(entered.length, 2, 'two entries in the journal');

  const notJson = await client.call('POST', '/api/v1/simulate', {
    body: { source: DRAFT, events: '{"at":0\n' },
  });
  t.equal(notJson.status, 400);
  t.match(notJson.body.error.message, /^events:1 is not JSON/);
  const noAt = await client.call('POST', '/api/v1/simulate', {
    body: { source: DRAFT, events: '{"name":"x","userId":"u"}' },
  });
  t.equal(noAt.status, 400);
  t.equal(noAt.body.error.message, 'events:1 has no valid "at"');
  const many = Array.from({ length: 5_001 }, (_, i) => `{"at":${i},"name":"x","userId":"u"}`).join('\n');
  const tooMany = await client.call('POST', '/api/v1/simulate', { body: { source: DRAFT, events: many } });
  t.equal(tooMany.status, 400);
  t.equal(tooMany.body.error.message, 'events holds 5001 events; the limit is 5000');
});
