import t from 'tap';
import {
  conditionsExclusive,
  deepEqual,
  evaluateConditions,
  JourneyCodes,
  JourneyError,
  normalizeWhere,
  readPath,
  type Condition,
  type ConditionOp,
} from '../../../libs/journey/index.js';

const event = {
  properties: {
    total: 120,
    currency: 'USD',
    tags: ['vip', 'beta'],
    url: 'https://shop.example/cart',
    at: '2025-03-01T10:00:00Z',
    none: null,
    nested: { a: { b: 1 } },
    items: [{ sku: 'A1' }],
  },
};

// [path, op, value, expected]
const table: Array<[string, ConditionOp, unknown, boolean]> = [
  ['properties.currency', 'eq', 'USD', true],
  ['properties.currency', 'eq', 'EUR', false],
  ['properties.nested', 'eq', { a: { b: 1 } }, true],
  ['properties.tags', 'eq', ['vip', 'beta'], true],
  ['properties.tags', 'eq', ['vip'], false],
  ['properties.missing', 'eq', 'x', false],
  ['properties.currency', 'neq', 'EUR', true],
  ['properties.currency', 'neq', 'USD', false],
  ['properties.missing', 'neq', 'x', true],
  ['properties.currency', 'in', ['USD', 'EUR'], true],
  ['properties.currency', 'in', ['GBP'], false],
  ['properties.missing', 'in', ['x'], false],
  ['properties.currency', 'nin', ['GBP'], true],
  ['properties.currency', 'nin', ['USD'], false],
  ['properties.missing', 'nin', ['x'], true],
  ['properties.currency', 'exists', true, true],
  ['properties.currency', 'exists', false, false],
  ['properties.missing', 'exists', true, false],
  ['properties.missing', 'exists', false, true],
  ['properties.none', 'exists', false, true],
  ['properties.total', 'gt', 100, true],
  ['properties.total', 'gt', 120, false],
  ['properties.total', 'gte', 120, true],
  ['properties.total', 'lt', 120, false],
  ['properties.total', 'lte', 120, true],
  ['properties.total', 'lt', 200, true],
  ['properties.missing', 'lt', 200, false],
  ['properties.currency', 'gt', 1, false],
  ['properties.at', 'gt', '2025-02-28', true],
  ['properties.at', 'lt', '2025-03-01T09:00:00-02:00', true],
  ['properties.at', 'gte', '2025-03-01T10:00:00.000Z', true],
  ['properties.currency', 'lt', '2025-01-01', false],
  ['properties.tags', 'contains', 'vip', true],
  ['properties.tags', 'contains', 'gold', false],
  ['properties.url', 'contains', 'shop', true],
  ['properties.total', 'contains', 1, false],
  ['properties.missing', 'contains', 'x', false],
  ['properties.url', 'startsWith', 'https://', true],
  ['properties.url', 'startsWith', 'http://', false],
  ['properties.total', 'startsWith', '1', false],
  ['properties.items.0.sku', 'eq', 'A1', true],
  ['properties.items.1.sku', 'exists', true, false],
  ['properties.total.deeper', 'exists', false, true],
];

void t.test('condition evaluation table', (t) => {
  for (const [path, op, value, expected] of table) {
    t.equal(
      evaluateConditions([{ path, op, value }], event),
      expected,
      `${path} ${op} ${JSON.stringify(value)}`,
    );
  }
  t.end();
});

void t.test('conditions are ANDed; none is true', (t) => {
  const both: Condition[] = [
    { path: 'properties.total', op: 'gte', value: 100 },
    { path: 'properties.currency', op: 'eq', value: 'USD' },
  ];
  t.ok(evaluateConditions(both, event));
  t.notOk(evaluateConditions([...both, { path: 'properties.currency', op: 'eq', value: 'EUR' }], event));
  t.ok(evaluateConditions([], event));
  t.end();
});

void t.test('normalizeWhere: bare values mean eq; operator objects may hold several ops', (t) => {
  t.same(normalizeWhere(undefined), []);
  t.same(normalizeWhere({ 'properties.channel': 'web', 'properties.total': { gte: 1, lt: 5 }, flag: null }), [
    { path: 'properties.channel', op: 'eq', value: 'web' },
    { path: 'properties.total', op: 'gte', value: 1 },
    { path: 'properties.total', op: 'lt', value: 5 },
    { path: 'flag', op: 'eq', value: null },
  ]);
  t.same(normalizeWhere({ list: [1, 2] }), [{ path: 'list', op: 'eq', value: [1, 2] }]);
  t.same(normalizeWhere({ obj: { eq: { a: 1 } } }), [{ path: 'obj', op: 'eq', value: { a: 1 } }]);
  t.end();
});

void t.test('normalizeWhere refuses bad operators and operands', (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ x: { gtee: 1 } }, /'gtee' is not a condition operator/],
    [{ x: {} }, /has no operator/],
    [{ x: { in: 1 } }, /'in' takes a list/],
    [{ x: { exists: 'yes' } }, /'exists' takes true or false/],
    [{ x: { gt: 'soon' } }, /'gt' takes a number or an ISO-8601 date/],
    [{ x: { contains: [1] } }, /'contains' takes a single/],
    [{ x: { startsWith: 1 } }, /'startsWith' takes a string/],
    [{ x: { eq: undefined } }, /'eq' takes a value, got nothing/],
  ];
  for (const [where, message] of bad) {
    t.throws(
      () => normalizeWhere(where),
      { code: JourneyCodes.BAD_CONDITION, message },
      JSON.stringify(where),
    );
  }
  try {
    normalizeWhere({ x: { gtee: 1, lt: 'x' } });
  } catch (err) {
    t.ok(err instanceof JourneyError);
    t.same(
      (err as JourneyError).issues.map((i) => i.path),
      ['x.gtee', 'x.lt'],
    );
  }
  t.end();
});

void t.test('readPath and deepEqual', (t) => {
  t.equal(readPath(event, 'properties.nested.a.b'), 1);
  t.equal(readPath(event, 'properties.nested.x.b'), undefined);
  t.equal(readPath(event, 'properties.tags.x'), undefined);
  t.equal(readPath(event, 'toString'), undefined, 'inherited properties are not read');
  t.equal(readPath(null, 'a'), undefined);
  t.ok(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  t.notOk(deepEqual({ a: 1 }, { b: 1 }));
  t.notOk(deepEqual({ a: 1 }, { a: 1, b: 2 }));
  t.notOk(deepEqual([1], { 0: 1 }));
  t.ok(deepEqual(NaN, NaN));
  t.end();
});

// [a, b, exclusive]
const pairs: Array<[Record<string, unknown>, Record<string, unknown>, boolean]> = [
  [{}, {}, false],
  [{ p: 1 }, {}, false],
  [{ p: 1 }, { p: 2 }, true],
  [{ p: 1 }, { p: 1, q: 2 }, false],
  [{ p: 1 }, { p: { neq: 1 } }, true],
  [{ p: { in: [1, 2] } }, { p: { in: [3] } }, true],
  [{ p: { in: [1, 2] } }, { p: { in: [2, 3] } }, false],
  [{ p: { in: [1, 2] } }, { p: { nin: [1, 2] } }, true],
  [{ p: { exists: false } }, { p: { exists: true } }, true],
  [{ p: { exists: false } }, { p: 'x' }, true],
  [{ p: { exists: false } }, { p: { neq: 'x' } }, false],
  [{ p: { gte: 100 } }, { p: { lt: 100 } }, true],
  [{ p: { gt: 100 } }, { p: { lte: 100 } }, true],
  [{ p: { gte: 100 } }, { p: { lte: 100 } }, false],
  [{ p: { lt: 5 } }, { p: { gt: 10 } }, true],
  [{ p: { gte: 1 } }, { p: { gte: 100 } }, false],
  [{ p: { gt: '2025-01-02' } }, { p: { lt: '2025-01-01' } }, true],
  [{ p: { gt: 5 } }, { p: { lt: '2025-01-01' } }, true],
  [{ p: { startsWith: 'ab' } }, { p: { startsWith: 'ac' } }, true],
  [{ p: { startsWith: 'ab' } }, { p: { startsWith: 'abc' } }, false],
  [{ p: { contains: 'a' } }, { p: { contains: 'b' } }, false],
  [{ p: 1 }, { q: 2 }, false],
];

void t.test('conditionsExclusive table', (t) => {
  for (const [a, b, exclusive] of pairs) {
    t.equal(
      conditionsExclusive(normalizeWhere(a), normalizeWhere(b)),
      exclusive,
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
  }
  t.end();
});
