// Send payloads: the default Segment track event, explicit mappings, the size limit, previews.
import t from 'tap';
import {
  EXIT_SEND_STEP_ID,
  buildSendPayload,
  decide,
  deliveryIdOf,
  makeEvent,
  payloadBytes,
  previewSend,
  simulate,
} from '../../../libs/journey/index.js';
import { ctxAt, journeyFrom, summarize, T0 } from './engine-helpers.js';

const MAPPED = `
id: mapped
name: Mapped
trigger: { event: order_placed }
entry: { mode: every_time, uniqueBy: properties.order_id }
exit:
  rules: [{ event: cancelled, sameKey: true }]
  send: { to: [crm], payload: { why: events.cancelled.properties.why } }
events:
  cancelled: { carries: [properties.order_id] }
steps:
  - id: mapped-send
    type: send
    to: [crm, "odd dest/1"]
    payload:
      order: entry.properties.order_id
      nested: entry.properties.items.0.sku
      email: profile.traits.email
      vip: profile.audiences
      missing: entry.properties.nope
      journey: journey.id
      key: journey.instanceKey
  - { id: default-send, type: send, to: [crm], event: Order Placed, traits: [email, address.city, absent] }
`;
const journey = journeyFrom(MAPPED);
const order = makeEvent({
  name: 'order_placed',
  anonymousId: 'anon-1',
  at: T0,
  properties: { order_id: 'o1', items: [{ sku: 'sku-1' }] },
});
const PROFILE = { traits: { email: 'a@b.c', address: { city: 'Oslo' } }, audiences: ['vip'] };

void t.test('an explicit mapping reads context paths; a missing one is null', (t) => {
  const d = decide(
    journey,
    undefined,
    { kind: 'event', id: order.messageId, event: order },
    ctxAt(T0, { profile: PROFILE }),
  );
  const delivers = d.commands.filter((c) => c.kind === 'deliver');
  const id = d.instance?.id ?? '';
  t.same(
    delivers.map((c) => [c.destination, c.deliveryId]),
    [
      ['crm', `${id}.mapped-send.1.crm`],
      ['odd dest/1', deliveryIdOf(id, 'mapped-send', 1, 'odd dest/1')],
      ['crm', `${id}.default-send.1.crm`],
    ],
  );
  t.match(
    delivers[1]?.deliveryId,
    /^[-_=.a-zA-Z0-9]+$/,
    'an unsafe destination id is hashed into the delivery id',
  );
  const long = deliveryIdOf(id, 'mapped-send', 1, 'd'.repeat(5_000));
  t.ok(
    long.length < id.length + 40,
    `a 5,000-character destination id is hashed too (${long.length} characters)`,
  );
  t.equal(
    deliveryIdOf(id, 's', 1, 'd'.repeat(64)),
    `${id}.s.1.${'d'.repeat(64)}`,
    'a 64-character one is kept',
  );
  t.same(delivers[0]?.payload, {
    order: 'o1',
    nested: 'sku-1',
    email: 'a@b.c',
    vip: ['vip'],
    missing: null,
    journey: 'mapped',
    key: 'o1',
    _cairn: {
      step_key: { journeyId: 'mapped', version: 1, stepId: 'mapped-send' },
      delivery_id: `${id}.mapped-send.1.crm`,
    },
  });
  t.match(delivers[0], { eventReceivedAt: T0, eventTimestamp: T0, stepKey: { stepId: 'mapped-send' } });
  const track = delivers[2]?.payload;
  t.equal(track?.anonymousId, 'anon-1', 'an anonymous user is addressed by anonymousId');
  t.notOk(track && 'userId' in track);
  t.same((track?.properties as Record<string, unknown>)['address.city'], 'Oslo');
  t.notOk('absent' in (track?.properties as object));
  t.end();
});

void t.test('the exit send can map the exit event', (t) => {
  const timeline = simulate(journey, [
    order,
    { name: 'cancelled', anonymousId: 'anon-1', at: T0 + 1, properties: { order_id: 'o1', why: 'late' } },
  ]);
  t.same(
    timeline.sends.map((s) => s.stepKey.stepId),
    ['mapped-send', 'mapped-send', 'default-send'],
    'the instance completed at once: no exit send',
  );
  const waiting = journeyFrom(MAPPED.replace('steps:', 'steps:\n  - { id: pause, type: delay, after: 1h }'));
  const exited = simulate(waiting, [
    order,
    { name: 'cancelled', anonymousId: 'anon-1', at: T0 + 1, properties: { order_id: 'o1', why: 'late' } },
  ]);
  t.same(
    exited.sends.map((s) => [s.stepKey.stepId, s.payload.why]),
    [[EXIT_SEND_STEP_ID, 'late']],
  );
  t.end();
});

void t.test('a payload over the size limit is journaled, not delivered; the journey goes on', (t) => {
  const small = journeyFrom(MAPPED, { limits: { maxPayloadBytes: 400 } });
  const big = makeEvent({
    name: 'order_placed',
    userId: 'u1',
    at: T0,
    properties: { order_id: 'o2', items: [{ sku: 'é'.repeat(120) }] },
  });
  const d = decide(
    small,
    undefined,
    { kind: 'event', id: big.messageId, event: big },
    ctxAt(T0, { profile: PROFILE }),
  );
  t.same(summarize(d.commands), [
    'journal entered',
    'journal step mapped-send',
    'journal send.failed payload_too_large mapped-send',
    'journal send.failed payload_too_large mapped-send',
    'journal step default-send',
    'journal send.failed payload_too_large default-send',
    'journal completed end_of_path',
    'instance.end completed end_of_path',
  ]);
  const failed = d.commands.find((c) => c.kind === 'journal' && c.record.type === 'send.failed');
  t.match(failed?.kind === 'journal' && failed.record.detail, { destination: 'crm', limit: 400 });
  const bytes = failed?.kind === 'journal' ? Number(failed.record.detail?.bytes) : 0;
  t.ok(bytes > 400 && bytes > 240, `measured in UTF-8 bytes: ${bytes}`);
  t.end();
});

void t.test('payloadBytes counts UTF-8 bytes of the JSON', (t) => {
  t.equal(payloadBytes({ a: 'é' }), 10);
  t.equal(payloadBytes({}), 2);
  t.end();
});

void t.test('previewSend', (t) => {
  const preview = previewSend(journey, 'default-send', { entry: order, profile: PROFILE, now: T0 });
  t.ok('payload' in preview);
  if ('payload' in preview) {
    t.equal(preview.bytes, payloadBytes(preview.payload));
    t.match(preview.payload, {
      type: 'track',
      event: 'Order Placed',
      anonymousId: 'anon-1',
      timestamp: '2025-03-01T09:00:00.000Z',
      properties: { email: 'a@b.c', journey_context: { order_placed: { order_id: 'o1' } } },
    });
  }
  const exitPreview = previewSend(journey, EXIT_SEND_STEP_ID, { entry: order, now: T0 });
  t.same('payload' in exitPreview && exitPreview.payload.why, null, 'the exit event is not in a preview');
  t.same(previewSend(journey, 'nope', { entry: order, now: T0 }), {
    error: { code: 'CAIRN_E_SEND_NOT_A_SEND_STEP', message: "'nope' is not a send step of journey 'mapped'" },
  });
  const noExitSend = journeyFrom(`
id: plain
name: Plain
trigger: { event: order_placed }
entry: { mode: once }
steps: [{ id: s, type: send, to: [crm] }]
`);
  t.match(previewSend(noExitSend, EXIT_SEND_STEP_ID, { entry: order, now: T0 }), {
    error: { code: 'CAIRN_E_SEND_NOT_A_SEND_STEP' },
  });
  const known = makeEvent({ name: 'order_placed', userId: 'u7', at: T0, properties: { order_id: 'o7' } });
  const forUser = previewSend(journey, 'default-send', { entry: known, now: T0 });
  t.match('payload' in forUser && forUser.payload, { userId: 'u7', messageId: /\.default-send\.1\.crm$/ });
  const nowhere = structuredClone(journey);
  nowhere.steps['default-send'] = { id: 'default-send', type: 'send', to: [], event: 'E', traits: [] };
  t.match(previewSend(nowhere, 'default-send', { entry: known, now: T0 }), {
    payload: { messageId: /\.default-send\.1\.preview$/ },
  });
  const tiny = journeyFrom(MAPPED, { limits: { maxPayloadBytes: 50 } });
  t.match(previewSend(tiny, 'default-send', { entry: order, now: T0 }), {
    error: { code: 'CAIRN_E_SEND_PAYLOAD_TOO_LARGE' },
  });
  t.end();
});

void t.test(
  'buildSendPayload: userId wins over anonymousId; the user key stands in when neither is known',
  (t) => {
    const d = decide(journey, undefined, { kind: 'event', id: order.messageId, event: order }, ctxAt(T0));
    const instance = d.instance;
    if (!instance) return t.fail('no instance');
    const spec = { to: ['crm'], event: 'E', traits: [] };
    const args = { journey, spec, stepId: 's', deliveryId: 'd', profile: PROFILE, at: T0 };
    const both = buildSendPayload({ ...args, instance: { ...instance, userId: 'u9' } });
    t.equal(both.userId, 'u9');
    t.notOk('anonymousId' in both);
    const { userId: _u, anonymousId: _a, ...bare } = instance;
    t.equal(buildSendPayload({ ...args, instance: bare }).userId, instance.userKey);
    t.end();
  },
);
