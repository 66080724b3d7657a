// Every way normalizeEvent refuses an event: the code, the field and words of the reason.
import t from 'tap';
import {
  EventCodes,
  nestsDeeperThan,
  normalizeEvent,
  type EventProblem,
  type NormalizeOptions,
} from '../../../libs/events/index.js';
import { RECEIVED_AT, ids } from './fixtures.js';

const track = { type: 'track', event: 'Order Completed', userId: 'u1', messageId: 'm1' };

interface Case {
  name: string;
  raw: unknown;
  opts?: Partial<NormalizeOptions>;
  /** The expected problem; a RegExp reason matches when the exact text is not the point. */
  error: Omit<EventProblem, 'reason'> & { reason: string | RegExp };
}

const cycle: Record<string, unknown> = { type: 'track' };
cycle.self = cycle;

/** An event whose properties hold arrays nested so that it has `depth` levels in all. */
function nested(depth: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let i = 0; i < depth - 2; i++) value = [value];
  return { ...track, properties: { a: value } };
}

const cases: Case[] = [
  // Not an event object at all
  ...(
    [
      [null, 'null'],
      [[track], 'an array'],
      ['track', '"track"'],
      [42, '42'],
      [true, 'true'],
      [undefined, 'undefined'],
      [new Date(0), 'an object'],
      [() => 1, 'a function'],
    ] as const
  ).map(([raw, got]) => ({
    name: `not an object: ${got}`,
    raw,
    error: { code: EventCodes.NOT_OBJECT, reason: `an event must be a JSON object, got ${got}` },
  })),
  {
    name: 'cannot be written as JSON',
    raw: { ...track, n: 1n },
    error: {
      code: EventCodes.NOT_JSON,
      reason: /^the event cannot be written as JSON: /,
    },
  },
  // Nesting: checked without recursion, before the size is measured
  {
    name: 'nested 10,000 levels deep (size measured here)',
    raw: nested(10_000),
    error: { code: EventCodes.TOO_DEEP, reason: /more than 32 levels deep/ },
  },
  {
    name: 'nested 100,000 levels deep (size given by the transport)',
    raw: nested(100_000),
    opts: { sizeBytes: 100 },
    error: { code: EventCodes.TOO_DEEP, reason: /more than 32 levels deep/ },
  },
  { name: 'nested 33 levels deep', raw: nested(33), error: { code: EventCodes.TOO_DEEP, reason: /32/ } },
  { name: 'a cycle', raw: cycle, error: { code: EventCodes.TOO_DEEP, reason: /32/ } },
  // Ids that become part of keys
  ...(['userId', 'anonymousId', 'previousId', 'groupId'] as const).map((field) => ({
    name: `${field} over 256 characters`,
    raw: {
      ...track,
      type: field === 'previousId' ? 'alias' : field === 'groupId' ? 'group' : 'track',
      [field]: 'i'.repeat(257),
    },
    error: {
      code: EventCodes.ID_TOO_LONG,
      field,
      reason: new RegExp(`^${field} must be at most 256 characters \\(got 257: "i{60}\\.\\.\\.\\)$`),
    },
  })),
  {
    name: 'too large (size given by the caller)',
    raw: track,
    opts: { sizeBytes: 40_000 },
    error: { code: EventCodes.TOO_LARGE, reason: 'the event is 40000 bytes; the limit is 32768 bytes' },
  },
  {
    name: 'too large under a custom limit',
    raw: track,
    opts: { maxBytes: 10 },
    error: {
      code: EventCodes.TOO_LARGE,
      reason: /^the event is \d+ bytes; the limit is 10 bytes$/,
    },
  },
  // The type
  {
    name: 'type missing, no hint',
    raw: { event: 'x', userId: 'u1' },
    error: {
      code: EventCodes.UNKNOWN_TYPE,
      field: 'type',
      reason:
        /^type is missing: set it \(use one of track, identify, page, screen, group, alias\), or publish to events\.<type>/,
    },
  },
  {
    name: 'type null, no hint',
    raw: { type: null, event: 'x', userId: 'u1' },
    error: { code: EventCodes.UNKNOWN_TYPE, field: 'type', reason: /^type is missing/ },
  },
  {
    name: 'unknown type',
    raw: { ...track, type: 'Track' },
    error: {
      code: EventCodes.UNKNOWN_TYPE,
      field: 'type',
      reason:
        'type "Track" is not a Segment Spec type: use one of track, identify, page, screen, group, alias',
    },
  },
  {
    name: 'type that is not a string',
    raw: { ...track, type: 7 },
    error: {
      code: EventCodes.UNKNOWN_TYPE,
      field: 'type',
      reason: /^type 7 is not a Segment Spec type/,
    },
  },
  {
    name: 'an inherited name is not a type',
    raw: { ...track, type: 'toString' },
    error: {
      code: EventCodes.UNKNOWN_TYPE,
      field: 'type',
      reason: /^type "toString" is not/,
    },
  },
  {
    name: 'type differs from the subject',
    raw: { ...track, type: 'identify' },
    opts: { typeHint: 'track' },
    error: {
      code: EventCodes.TYPE_MISMATCH,
      field: 'type',
      reason:
        'the body says type "identify" but it was sent as "track" (subject events.track or path /v1/track)',
    },
  },
  // Identity
  ...[{}, { userId: null, anonymousId: null }, { userId: '', anonymousId: '' }].map((ids) => ({
    name: `no identity: ${JSON.stringify(ids)}`,
    raw: { type: 'track', event: 'x', ...ids },
    error: {
      code: EventCodes.NO_IDENTITY,
      reason: 'the event has neither userId nor anonymousId; every Spec event needs one of them',
    },
  })),
  {
    name: 'userId of the wrong type',
    raw: { ...track, userId: true },
    error: {
      code: EventCodes.WRONG_TYPE,
      field: 'userId',
      reason: 'userId must be a string or a number (got true)',
    },
  },
  {
    name: 'anonymousId of the wrong type',
    raw: { ...track, anonymousId: { id: 1 } },
    error: {
      code: EventCodes.WRONG_TYPE,
      field: 'anonymousId',
      reason: 'anonymousId must be a string or a number (got an object)',
    },
  },
  // Type-specific required fields
  ...[undefined, null, '', '   '].map((event) => ({
    name: `track without event: ${JSON.stringify(event)}`,
    raw: { ...track, event },
    error: {
      code: EventCodes.TRACK_NO_EVENT,
      field: 'event',
      reason: /^event is required on a track event/,
    },
  })),
  {
    name: 'track event that is not a string',
    raw: { ...track, event: 12 },
    error: { code: EventCodes.WRONG_TYPE, field: 'event', reason: 'event must be a string (got 12)' },
  },
  ...[undefined, null, ''].map((groupId) => ({
    name: `group without groupId: ${JSON.stringify(groupId)}`,
    raw: { type: 'group', userId: 'u1', groupId },
    error: {
      code: EventCodes.GROUP_NO_GROUP_ID,
      field: 'groupId',
      reason: /^groupId is required on a group event/,
    },
  })),
  {
    name: 'groupId of the wrong type',
    raw: { type: 'group', userId: 'u1', groupId: ['g'] },
    error: {
      code: EventCodes.WRONG_TYPE,
      field: 'groupId',
      reason: 'groupId must be a non-empty string or a number (got an array)',
    },
  },
  {
    name: 'alias without previousId',
    raw: { type: 'alias', userId: 'u1' },
    error: {
      code: EventCodes.ALIAS_NO_PREVIOUS_ID,
      field: 'previousId',
      reason: 'previousId is required on an alias event',
    },
  },
  {
    name: 'alias without userId (an anonymousId is not enough)',
    raw: { type: 'alias', anonymousId: 'a1', previousId: 'p1' },
    error: {
      code: EventCodes.ALIAS_NO_USER_ID,
      field: 'userId',
      reason: 'an alias event needs the userId that previousId becomes',
    },
  },
  {
    name: 'page name that is not a string',
    raw: { type: 'page', userId: 'u1', name: 3 },
    error: { code: EventCodes.WRONG_TYPE, field: 'name', reason: 'name must be a string (got 3)' },
  },
  // Timestamps
  ...(['timestamp', 'originalTimestamp', 'sentAt', 'receivedAt'] as const).flatMap((field) => [
    {
      name: `${field} in a non-ISO format`,
      raw: { ...track, [field]: '12/05/2024 10:00' },
      error: {
        code: EventCodes.BAD_TIMESTAMP,
        field,
        reason: `${field} must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00.000Z (got "12/05/2024 10:00")`,
      },
    },
    {
      name: `${field} as epoch milliseconds`,
      raw: { ...track, [field]: 1714564800000 },
      error: {
        code: EventCodes.BAD_TIMESTAMP,
        field,
        reason: `${field} must be an ISO-8601 date-time string (got 1714564800000)`,
      },
    },
  ]),
  ...(['timestamp', 'originalTimestamp', 'sentAt', 'receivedAt'] as const).flatMap((field) =>
    ['0001-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '2100-01-01T00:00:00Z', '9999-12-31'].map(
      (value) => ({
        name: `${field} ${value}, outside the window`,
        raw: { ...track, [field]: value },
        error: {
          code: EventCodes.TIMESTAMP_OUT_OF_RANGE,
          field,
          reason: `${field} must be within 1970-01-01T00:00:00Z to 2099-12-31T23:59:59.999Z (got "${value}")`,
        },
      }),
    ),
  ),
  {
    name: 'a skew correction that leaves the window',
    raw: { ...track, originalTimestamp: '1970-01-02T00:00:00Z', sentAt: '2099-01-01T00:00:00Z' },
    error: {
      code: EventCodes.TIMESTAMP_OUT_OF_RANGE,
      field: 'timestamp',
      reason:
        /^the skew-corrected timestamp .* falls outside 1970-01-01T00:00:00Z to 2099-12-31T23:59:59\.999Z: sentAt and the call time are 47116 days apart$/,
    },
  },
  {
    name: 'timestamp without a zone',
    raw: { ...track, timestamp: '2024-05-01T12:00:00' },
    error: { code: EventCodes.BAD_TIMESTAMP, field: 'timestamp', reason: /time zone/ },
  },
  // Content no encoding downstream keeps as sent (content.test.ts has more)
  {
    name: 'a __proto__ key in properties',
    raw: JSON.parse('{"type":"track","userId":"u1","event":"E","properties":{"__proto__":1}}') as unknown,
    error: {
      code: EventCodes.FORBIDDEN_KEY,
      field: 'properties.__proto__',
      reason: 'properties.__proto__: the key "__proto__" is not accepted anywhere in an event; rename it',
    },
  },
  {
    name: 'a lone surrogate in a userId',
    raw: { ...track, userId: 'u\ud800' },
    error: {
      code: EventCodes.LONE_SURROGATE,
      field: 'userId',
      reason:
        'userId: the value holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), which has no UTF-8 form; send well-formed Unicode',
    },
  },
  // messageId
  {
    name: 'messageId over 100 characters',
    raw: { ...track, messageId: 'x'.repeat(101) },
    error: {
      code: EventCodes.MESSAGE_ID_TOO_LONG,
      field: 'messageId',
      reason: /^messageId must be at most 100 characters \(got 101: "x{60}\.\.\.\)$/,
    },
  },
  {
    name: 'messageId that is not a string',
    raw: { ...track, messageId: 17 },
    error: { code: EventCodes.WRONG_TYPE, field: 'messageId', reason: 'messageId must be a string (got 17)' },
  },
  // Free-form objects
  ...(['properties', 'traits', 'context', 'integrations'] as const).map((field) => ({
    name: `${field} that is not an object`,
    raw: { ...track, [field]: ['a'] },
    error: { code: EventCodes.WRONG_TYPE, field, reason: `${field} must be a JSON object (got an array)` },
  })),
  {
    name: 'context.traits that is not an object',
    raw: { ...track, context: { traits: 'gold' } },
    error: {
      code: EventCodes.WRONG_TYPE,
      field: 'context.traits',
      reason: 'context.traits must be a JSON object',
    },
  },
];

for (const c of cases) {
  void t.test(c.name, (t) => {
    const result = normalizeEvent(c.raw, { receivedAt: RECEIVED_AT, generateId: ids(), ...c.opts });
    t.equal(result.ok, false, 'refused');
    if (!result.ok) {
      t.match(result.error, c.error);
      t.equal(result.error.field, c.error.field, 'field');
      t.equal(result.error.code, c.error.code, 'code');
      if (typeof c.error.reason === 'string')
        t.equal(result.error.reason, c.error.reason, 'the exact reason');
    }
    t.end();
  });
}

void t.test('every code has a case in this table', (t) => {
  const reached = new Set(cases.map((c) => c.error.code));
  for (const code of Object.values(EventCodes)) t.ok(reached.has(code), `${code} has a case`);
  t.end();
});

void t.test('the first problem in field order is the one reported', (t) => {
  const result = normalizeEvent(
    { type: 'track', userId: true, timestamp: 'x' },
    { receivedAt: 0, generateId: ids() },
  );
  t.match(result, { ok: false, error: { field: 'userId' } });
  t.end();
});

void t.test('32 levels and 256-character ids are accepted', (t) => {
  const deep = normalizeEvent(nested(32), { receivedAt: RECEIVED_AT, generateId: ids() });
  t.equal(deep.ok, true, '32 levels');
  const id = 'i'.repeat(256);
  for (const raw of [
    { ...track, userId: id, anonymousId: id },
    { type: 'alias', userId: 'u1', previousId: id },
    { type: 'group', userId: 'u1', groupId: id },
    // Ids another type has no use for are not keys: not checked.
    { ...track, previousId: 'p'.repeat(1_000), groupId: 'g'.repeat(1_000) },
  ]) {
    t.equal(
      normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() }).ok,
      true,
      raw.type ?? 'track',
    );
  }
  t.end();
});

void t.test('the depth walk takes a value shared at every level in linear time', (t) => {
  // 30 levels, each holding the next twice: 2^30 paths, 30 objects.
  let shared: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 29; i++) shared = { a: shared, b: shared };
  const started = Date.now();
  t.equal(nestsDeeperThan(shared, 32), false);
  t.equal(nestsDeeperThan(shared, 29), true);
  t.ok(Date.now() - started < 2_000, `walked in ${Date.now() - started} ms`);
  t.end();
});

void t.test("the timestamp window's edges are accepted", (t) => {
  for (const value of ['1970-01-01T00:00:00Z', '2099-12-31T23:59:59.999Z']) {
    const result = normalizeEvent(
      { ...track, originalTimestamp: value },
      { receivedAt: RECEIVED_AT, generateId: ids() },
    );
    t.match(result, { ok: true, event: { timestamp: Date.parse(value) } }, value);
  }
  t.end();
});
