// Property: whatever a producer sends, normalizeEvent returns a normalized event or a refusal
// with a code documented in docs/errors.md; it never throws. An accepted event travels through
// the MATCH message codec (msgpack) unchanged, so no journey sees it altered.
import fc from 'fast-check';
import t from 'tap';

import { MatchEventMessage } from '../../../libs/bus/index.js';
import { EVENT_TYPES, normalizeEvent } from '../../../libs/events/index.js';
import { anyKey, anyUtf16, documentedCodes, fuzzParams, jsonish } from '../../helpers/fuzz.js';

const CODES = documentedCodes('Events');
const RECEIVED_AT = Date.UTC(2024, 4, 1, 12);

/** Mostly a plausible value, sometimes anything: enough events pass to test what passes. */
const mostly = <T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: plausible, weight: 5 }, { arbitrary: jsonish, weight: 1 });

const id = mostly(fc.oneof(anyUtf16(), fc.integer(), fc.constantFrom(null, '', 'u1', 'anon-1')));
const time = mostly(
  fc.oneof(
    fc
      .date({ min: new Date(Date.UTC(-1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc
      .date({ min: new Date(Date.UTC(2020, 0, 1)), max: new Date(Date.UTC(2030, 0, 1)), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom('2024-05-01', '2024-05-01T12:00:00', '0001-01-01T00:00:00Z', '2024-02-30T00:00:00Z'),
  ),
);
/** Objects with keys as producers send them, `__proto__` and lone surrogates included. */
const object = mostly(
  fc.array(fc.tuple(anyKey, jsonish), { maxLength: 4 }).map((e) => Object.fromEntries(e)),
);

/** Event-shaped records: every Spec field optional, each a plausible value or anything. */
const eventLike = fc
  .record(
    {
      type: mostly(fc.constantFrom(...EVENT_TYPES)),
      userId: id,
      anonymousId: id,
      messageId: id,
      event: mostly(anyUtf16()),
      name: mostly(anyUtf16()),
      groupId: id,
      previousId: id,
      timestamp: time,
      originalTimestamp: time,
      sentAt: time,
      receivedAt: time,
      properties: object,
      traits: object,
      context: object,
      integrations: object,
      extra: fc.tuple(fc.constantFrom('__proto__', 'writeKey', 'version'), jsonish),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => {
    // A top-level key the Spec does not name, `__proto__` included, as JSON.parse makes it.
    const raw: Record<string, unknown> = { ...fields };
    if (extra)
      Object.defineProperty(raw, extra[0], {
        value: extra[1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return raw;
  });

const hint = fc.option(fc.constantFrom(...EVENT_TYPES), { nil: undefined });

function check(raw: unknown, typeHint: (typeof EVENT_TYPES)[number] | undefined): void {
  let n = 0;
  const result = normalizeEvent(raw, {
    receivedAt: RECEIVED_AT,
    generateId: () => `gen-${++n}`,
    ...(typeHint && { typeHint }),
  });
  if (!result.ok) {
    if (!CODES.has(result.error.code)) throw new Error(`undocumented code ${result.error.code}`);
    if (typeof result.error.reason !== 'string' || result.error.reason === '') throw new Error('no reason');
    return;
  }
  const { event } = result;
  if (typeof event.userKey !== 'string' || event.userKey === '') throw new Error('no userKey');
  if (!Number.isFinite(event.timestamp)) throw new Error(`timestamp ${event.timestamp}`);
  const decoded = MatchEventMessage.decode(MatchEventMessage.encode({ v: 1, kind: 'event', event }));
  if (JSON.stringify(decoded.event) !== JSON.stringify(event)) {
    throw new Error(`altered by the MATCH codec: ${JSON.stringify(event)}`);
  }
}

void t.test('event-shaped input: a normalized event or a documented refusal', (t) => {
  fc.assert(
    fc.property(eventLike, hint, (raw, typeHint) => check(raw, typeHint)),
    fuzzParams(400),
  );
  t.pass('held');
  t.end();
});

void t.test('any JSON value: a normalized event or a documented refusal', (t) => {
  fc.assert(
    fc.property(jsonish, hint, (raw, typeHint) => check(raw, typeHint)),
    fuzzParams(300),
  );
  t.pass('held');
  t.end();
});
