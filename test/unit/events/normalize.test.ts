// normalizeEvent's rules beyond validation: identity coercion, ids, names, traits and purity.
import t from 'tap';
import { normalizeEvent, type NormalizeOptions } from '../../../libs/events/index.js';
import type { NormalizedEvent } from '../../../libs/journey/index.js';
import { RECEIVED_AT, TRACK, ids } from './fixtures.js';

function normalize(raw: unknown, opts: Partial<NormalizeOptions> = {}): NormalizedEvent {
  const result = normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids(), ...opts });
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.reason}`);
  return result.event;
}

void t.test('numeric ids become strings, as Segment stores them', (t) => {
  const cases: Array<[Record<string, unknown>, Partial<NormalizedEvent>]> = [
    [{ userId: 42 }, { userId: '42', userKey: '42' }],
    [{ userId: 0 }, { userId: '0', userKey: '0' }],
    [{ userId: -7.5 }, { userId: '-7.5', userKey: '-7.5' }],
    [{ anonymousId: 1234567890123 }, { anonymousId: '1234567890123', userKey: '1234567890123' }],
    [
      { userId: 9, anonymousId: 'a' },
      { userId: '9', anonymousId: 'a', userKey: '9' },
    ],
  ];
  for (const [identity, expected] of cases) {
    t.match(normalize({ type: 'track', event: 'x', ...identity }), expected, JSON.stringify(identity));
  }
  t.match(
    normalize({ type: 'group', userId: 'u', groupId: 77 }).properties,
    { groupId: '77' },
    'groupId too',
  );
  t.match(
    normalize({ type: 'alias', userId: 'u', previousId: 5 }).properties,
    { previousId: '5' },
    'previousId too',
  );
  t.end();
});

void t.test('userKey is userId, else anonymousId; null and empty ids are absent', (t) => {
  const cases: Array<[Record<string, unknown>, string, string[]]> = [
    [{ userId: 'u', anonymousId: 'a' }, 'u', ['userId', 'anonymousId']],
    [{ anonymousId: 'a' }, 'a', ['anonymousId']],
    [{ userId: null, anonymousId: 'a' }, 'a', ['anonymousId']],
    [{ userId: '', anonymousId: 'a' }, 'a', ['anonymousId']],
    [{ userId: 'u', anonymousId: null }, 'u', ['userId']],
  ];
  for (const [identity, userKey, present] of cases) {
    const event = normalize({ type: 'track', event: 'x', ...identity });
    t.equal(event.userKey, userKey, JSON.stringify(identity));
    t.same(
      ['userId', 'anonymousId'].filter((k) => k in event),
      present,
      'absent ids leave no key behind',
    );
  }
  t.end();
});

void t.test('a messageId is generated only when none usable was sent', (t) => {
  let calls = 0;
  const generateId = () => `gen-${++calls}`;
  const cases: Array<[unknown, string]> = [
    [undefined, 'gen-1'],
    [null, 'gen-2'],
    ['', 'gen-3'],
    ['m-1', 'm-1'],
    ['x'.repeat(100), 'x'.repeat(100)],
  ];
  for (const [messageId, expected] of cases) {
    t.equal(
      normalize({ type: 'track', event: 'x', userId: 'u', messageId }, { generateId }).messageId,
      expected,
    );
  }
  t.equal(calls, 3, 'the generator ran once per event without a messageId');
  t.end();
});

void t.test('name: the track event, else the type', (t) => {
  t.equal(normalize({ type: 'track', event: 'Order Completed', userId: 'u' }).name, 'Order Completed');
  for (const type of ['identify', 'page', 'screen'] as const) {
    t.equal(normalize({ type, userId: 'u', name: 'Ignored For Matching' }).name, type);
  }
  t.end();
});

void t.test('page and screen names reach properties; a producer-set property wins', (t) => {
  t.strictSame(normalize({ type: 'page', userId: 'u', name: 'Home', category: 'Docs' }).properties, {
    category: 'Docs',
    name: 'Home',
  });
  t.strictSame(
    normalize({ type: 'page', userId: 'u', name: 'Home', properties: { name: 'Start' } }).properties,
    {
      name: 'Start',
    },
  );
  t.strictSame(normalize({ type: 'page', userId: 'u', name: null, category: null }).properties, {});
  t.strictSame(normalize({ type: 'screen', userId: 'u', name: 'Feed' }).properties, { name: 'Feed' });
  t.strictSame(normalize({ type: 'screen', userId: 'u' }).properties, {});
  t.end();
});

void t.test('group and alias ids overwrite a same-named property', (t) => {
  t.strictSame(
    normalize({ type: 'group', userId: 'u', groupId: 'g', properties: { groupId: 'x', n: 1 } }).properties,
    {
      groupId: 'g',
      n: 1,
    },
  );
  t.strictSame(
    normalize({ type: 'alias', userId: 'u', previousId: 'p', properties: { previousId: 'x' } }).properties,
    {
      previousId: 'p',
    },
  );
  t.end();
});

void t.test(
  'traits: identify merges context.traits under top-level traits; group keeps its own; others none',
  (t) => {
    const context = { traits: { email: 'old@example.com', plan: 'free' }, ip: '1.2.3.4' };
    t.strictSame(normalize({ type: 'identify', userId: 'u', context, traits: { plan: 'pro' } }).traits, {
      email: 'old@example.com',
      plan: 'pro',
    });
    t.strictSame(
      normalize({ type: 'identify', userId: 'u', context }).traits,
      context.traits,
      'context.traits alone',
    );
    t.strictSame(normalize({ type: 'identify', userId: 'u', context: { traits: null } }).traits, {});
    t.strictSame(normalize({ type: 'identify', userId: 'u', traits: null }).traits, {});
    t.strictSame(
      normalize({ type: 'group', userId: 'u', groupId: 'g', context, traits: { seats: 3 } }).traits,
      {
        seats: 3,
      },
    );
    t.strictSame(normalize({ type: 'group', userId: 'u', groupId: 'g' }).traits, {});
    t.strictSame(normalize({ type: 'track', event: 'x', userId: 'u', context, traits: { a: 1 } }).traits, {});
    t.end();
  },
);

void t.test('unknown top-level fields and writeKey are dropped; context is kept as sent', (t) => {
  const event = normalize({
    type: 'track',
    event: 'x',
    userId: 'u',
    writeKey: 'secret',
    version: 2,
    channel: 'server',
    context: { library: { name: 'analytics-node' } },
    properties: null,
  });
  t.strictSame(Object.keys(event).sort(), [
    'context',
    'messageId',
    'name',
    'properties',
    'receivedAt',
    'timestamp',
    'traits',
    'type',
    'userId',
    'userKey',
  ]);
  t.strictSame(event.context, { library: { name: 'analytics-node' } });
  t.strictSame(event.properties, {});
  t.end();
});

void t.test('a "__proto__" key is refused, never applied as a prototype', (t) => {
  const raw = JSON.parse('{"type":"identify","userId":"u","traits":{"__proto__":{"admin":true}}}') as unknown;
  const result = normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() });
  t.match(result, { ok: false, error: { code: 'CAIRN_E_EVENT_FORBIDDEN_KEY', field: 'traits.__proto__' } });
  t.end();
});

void t.test(
  'deterministic: the same input and ids give the same event, and the input is not modified',
  (t) => {
    const raw = structuredClone({ ...TRACK, messageId: undefined, properties: { a: { b: [1, 2] } } });
    const before = structuredClone(raw);
    const first = normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() });
    const second = normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() });
    t.strictSame(first, second);
    t.strictSame(raw, before, 'input untouched');
    t.match(first, { ok: true, event: { messageId: 'gen-1' } });
    const later = normalizeEvent(raw, { receivedAt: RECEIVED_AT + 1000, generateId: ids() });
    t.match(
      later,
      { ok: true, event: { receivedAt: RECEIVED_AT + 1000 } },
      'receivedAt comes from the options',
    );
    t.end();
  },
);
