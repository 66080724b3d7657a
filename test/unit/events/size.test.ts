// The 32 KB per-event limit, at its boundary, in bytes of UTF-8 (not characters).
import t from 'tap';
import {
  DEFAULT_MAX_EVENT_BYTES,
  EventCodes,
  eventSizeBytes,
  normalizeEvent,
} from '../../../libs/events/index.js';
import { RECEIVED_AT, ids } from './fixtures.js';

/** A track event whose compact JSON is exactly `bytes` long, padded with `unit` (1 or more bytes each). */
function eventOfSize(bytes: number, unit = 'a'): Record<string, unknown> {
  const base = { type: 'track', event: 'Big', userId: 'u', properties: { pad: '' } };
  const fixed = eventSizeBytes(base);
  const unitBytes = new TextEncoder().encode(unit).byteLength;
  const units = Math.floor((bytes - fixed) / unitBytes);
  const rest = bytes - fixed - units * unitBytes;
  return { ...base, properties: { pad: unit.repeat(units) + 'a'.repeat(rest) } };
}

void t.test('eventSizeBytes measures compact UTF-8 JSON', (t) => {
  t.equal(eventSizeBytes({}), 2);
  t.equal(eventSizeBytes({ a: 'é' }), '{"a":"é"}'.length + 1, 'é is two bytes');
  t.equal(eventSizeBytes({ a: '😀' }), 12, 'an emoji is four bytes');
  t.equal(eventSizeBytes(undefined), 0, 'nothing to send');
  t.throws(() => eventSizeBytes({ n: 1n }), TypeError);
  t.end();
});

void t.test('exactly 32 KB is accepted; one byte more is refused', (t) => {
  t.equal(DEFAULT_MAX_EVENT_BYTES, 32 * 1024);
  for (const unit of ['a', 'é', '😀']) {
    const atLimit = eventOfSize(DEFAULT_MAX_EVENT_BYTES, unit);
    const over = eventOfSize(DEFAULT_MAX_EVENT_BYTES + 1, unit);
    t.equal(eventSizeBytes(atLimit), 32_768, `built at the limit with ${unit}`);
    t.equal(eventSizeBytes(over), 32_769, `built one over with ${unit}`);
    t.match(
      normalizeEvent(atLimit, { receivedAt: RECEIVED_AT, generateId: ids() }),
      { ok: true },
      `${unit}: at the limit`,
    );
    t.strictSame(
      normalizeEvent(over, { receivedAt: RECEIVED_AT, generateId: ids() }),
      {
        ok: false,
        error: { code: EventCodes.TOO_LARGE, reason: 'the event is 32769 bytes; the limit is 32768 bytes' },
      },
      `${unit}: one byte over`,
    );
  }
  t.end();
});

void t.test('maxBytes and a caller-measured size move the boundary', (t) => {
  const event = eventOfSize(1000);
  const opts = { receivedAt: RECEIVED_AT, generateId: ids() };
  t.match(normalizeEvent(event, { ...opts, maxBytes: 1000 }), { ok: true });
  t.match(normalizeEvent(event, { ...opts, maxBytes: 999 }), {
    ok: false,
    error: { code: EventCodes.TOO_LARGE },
  });
  // A pretty-printed body is larger on the wire than compact JSON; the caller's count is used.
  t.match(normalizeEvent(event, { ...opts, maxBytes: 1000, sizeBytes: 1001 }), {
    ok: false,
    error: { reason: 'the event is 1001 bytes; the limit is 1000 bytes' },
  });
  t.match(normalizeEvent(event, { ...opts, maxBytes: 1000, sizeBytes: 1000 }), { ok: true });
  t.end();
});
