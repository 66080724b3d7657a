// The compiler: next resolution, the event index, the content hash, and its two refusals.
import t from 'tap';
import {
  DEFAULT_LIMITS,
  JourneyError,
  buildEventIndex,
  compile,
  journeyHash,
  type JourneyDocument,
} from '../../../libs/journey/index.js';
import { journeyFrom } from './engine-helpers.js';
import { CART_ABANDONMENT, OTHER_STEPS } from './fixtures.js';

void t.test('every omitted next resolves to the following step, or to the end', (t) => {
  const journey = journeyFrom(`
id: nexts
name: Nexts
trigger: { event: go }
entry: { mode: once }
steps:
  - { id: d, type: delay, after: 1m }
  - id: h
    type: hold_until
    branches:
      - { id: r, event: again, restart: true }
      - { id: b, event: buy }
    timeout: { after: 1h }
  - id: ds
    type: data_split
    branches: [{ id: x, where: { profile.traits.a: 1 } }]
  - id: rs
    type: random_split
    branches: [{ id: ra, weight: 50 }, { id: rb, weight: 50, next: last }]
  - { id: s, type: send, to: [crm] }
  - { id: last, type: send, to: [crm] }
`);
  t.equal(journey.start, 'd');
  t.match(journey.steps.d, { next: 'h' });
  t.match(journey.steps.h, { branches: [{ id: 'r' }, { id: 'b', next: 'ds' }], timeout: { next: 'ds' } });
  t.match(journey.steps.ds, { branches: [{ next: 'rs' }], else: 'rs' });
  t.match(journey.steps.rs, { branches: [{ next: 's' }, { next: 'last' }] });
  t.match(journey.steps.s, { next: 'last' });
  t.equal((journey.steps.last as { next?: string }).next, undefined, 'the last step completes the instance');
  t.same(journey.index, {
    go: { entry: true, holds: [], exits: [] },
    again: { entry: false, holds: ['h'], exits: [] },
    buy: { entry: false, holds: ['h'], exits: [] },
  });
  t.equal(journey.version, 1);
  t.same(journey.limits, DEFAULT_LIMITS);
  t.end();
});

void t.test('the index lists entry, holds and exit rules per event', (t) => {
  const cart = journeyFrom(CART_ABANDONMENT, { version: 3, limits: { maxRestarts: 5 } });
  t.same(cart.index, {
    checkout_started: { entry: true, holds: [], exits: [] },
    cart_modified: { entry: false, holds: ['wait-for-purchase'], exits: [] },
    purchase_completed: { entry: false, holds: ['wait-for-purchase'], exits: [] },
    account_deleted: { entry: false, holds: [], exits: [0] },
    order_refunded: { entry: false, holds: [], exits: [1] },
  });
  t.equal(cart.version, 3);
  t.equal(cart.limits.maxRestarts, 5);
  const other = journeyFrom(OTHER_STEPS);
  const byEvent = buildEventIndex([cart, other]);
  t.same(
    [...byEvent.entries()].map(([name, js]) => [name, js.map((j) => j.id)]),
    [
      ['checkout_started', ['cart-abandonment']],
      ['cart_modified', ['cart-abandonment']],
      ['purchase_completed', ['cart-abandonment']],
      ['account_deleted', ['cart-abandonment']],
      ['order_refunded', ['cart-abandonment']],
      ['appointment_booked', ['appointment-reminder']],
    ],
  );
  const shared = journeyFrom(CART_ABANDONMENT.replace('id: cart-abandonment', 'id: cart-two'));
  t.same(
    buildEventIndex([cart, shared])
      .get('checkout_started')
      ?.map((j) => j.id),
    ['cart-abandonment', 'cart-two'],
  );
  t.same(buildEventIndex([]).size, 0);
  t.end();
});

void t.test('the content hash ignores key order and changes with content', (t) => {
  const a = journeyFrom(CART_ABANDONMENT);
  // Every object's keys in reverse order, at every level.
  const reverse = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reverse)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reverse(x)]),
          )
        : v;
  const reordered = reverse(a.doc) as JourneyDocument;
  t.not(JSON.stringify(reordered), JSON.stringify(a.doc));
  t.equal(journeyHash(reordered), a.hash);
  t.equal(compile(reordered, { version: 9 }).hash, a.hash);
  t.match(a.hash, /^[0-9a-f]{16}$/);
  t.equal(journeyFrom(CART_ABANDONMENT, { version: 2 }).hash, a.hash, 'the version is not content');
  t.not(journeyFrom(CART_ABANDONMENT.replace('after: 1h', 'after: 2h')).hash, a.hash);
  t.end();
});

void t.test('compile refuses what would make decide unsafe', (t) => {
  const base = journeyFrom(OTHER_STEPS).doc;
  const unknown: JourneyDocument = {
    ...base,
    steps: [{ id: 'a', type: 'delay', after: 1000, next: 'nowhere' }],
  };
  t.throws(() => compile(unknown, { version: 1 }), {
    name: 'JourneyError',
    code: 'CAIRN_E_JOURNEY_UNKNOWN_STEP',
  });
  const twice: JourneyDocument = {
    ...base,
    steps: [
      { id: 'a', type: 'exit' },
      { id: 'a', type: 'exit' },
    ],
  };
  t.throws(() => compile(twice, { version: 1 }), { code: 'CAIRN_E_JOURNEY_DUPLICATE_STEP_ID' });
  t.throws(() => compile(base, { version: 1, limits: { maxRestarts: -1 } }), JourneyError);
  const empty = compile({ ...base, steps: [] }, { version: 1 });
  t.equal(empty.start, null);
  t.end();
});

void t.test('readsProfile: every way a journey reads the profile, and none when it does not', (t) => {
  const head = (trigger = '{ event: go }') => `
id: p
name: P
trigger: ${trigger}
entry: { mode: once }
steps:
`;
  const cases: Array<[string, string, boolean]> = [
    [
      'entry paths only',
      `${head()}  - { id: s, type: send, to: [crm], payload: { a: entry.properties.a } }\n`,
      false,
    ],
    ['default payload, no traits', `${head()}  - { id: s, type: send, to: [crm] }\n`, false],
    [
      'trigger audience',
      `${head('{ event: go, audience: vip }')}  - { id: s, type: send, to: [crm] }\n`,
      true,
    ],
    ['send traits', `${head()}  - { id: s, type: send, to: [crm], traits: [email] }\n`, true],
    [
      'payload mapping',
      `${head()}  - { id: s, type: send, to: [crm], payload: { email: profile.traits.email } }\n`,
      true,
    ],
    [
      'data_split condition',
      `${head()}  - id: ds\n    type: data_split\n    branches: [{ id: x, where: { profile.audiences: { contains: vip } }, next: s }]\n    else: s\n  - { id: s, type: send, to: [crm] }\n`,
      true,
    ],
    [
      'delay until',
      `${head()}  - { id: d, type: delay, until: profile.traits.renewal_at, offset: -1h }\n  - { id: s, type: send, to: [crm] }\n`,
      true,
    ],
  ];
  cases.push([
    'exit send traits',
    `${head()}  - { id: s, type: send, to: [crm] }\n`.replace(
      'entry: { mode: once }',
      'entry: { mode: once }\nexit: { rules: [{ event: stop }], send: { to: [crm], traits: [email] } }',
    ),
    true,
  ]);
  for (const [what, yaml, expected] of cases) t.equal(journeyFrom(yaml).readsProfile, expected, what);
  t.equal(journeyFrom(CART_ABANDONMENT).readsProfile, true, 'the cart example maps profile.traits.email');
  t.end();
});
