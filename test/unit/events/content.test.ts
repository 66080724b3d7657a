// Content no event may carry: the key `__proto__` and lone surrogates, anywhere, in keys and
// values; refused with a code and the path of the offending field, by normalization (NATS) and by
// the HTTP request rules alike.
import t from 'tap';

import { EventCodes, normalizeEvent, prepareHttpEvents } from '../../../libs/events/index.js';
import { RECEIVED_AT, ids } from './fixtures.js';

// JSON.parse, as ingest does: in an object literal `__proto__` would set the prototype instead.
const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;
const normalize = (raw: unknown) => normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() });
const http = { generateId: () => 'gen' };

void t.test('a __proto__ key is refused wherever it is, properties and traits alike', (t) => {
  const table: Array<[string, string]> = [
    [
      '{"type":"track","userId":"u1","event":"E","properties":{"__proto__":{"admin":true}}}',
      'properties.__proto__',
    ],
    ['{"type":"identify","userId":"u1","traits":{"__proto__":{"admin":true}}}', 'traits.__proto__'],
    ['{"type":"identify","userId":"u1","context":{"traits":{"__proto__":1}}}', 'context.traits.__proto__'],
    [
      '{"type":"track","userId":"u1","event":"E","properties":{"cart":[{"a":1},{"__proto__":1}]}}',
      'properties.cart[1].__proto__',
    ],
    ['{"type":"track","userId":"u1","event":"E","__proto__":{}}', '__proto__'],
    [
      '{"type":"track","userId":"u1","event":"E","integrations":{"a b":{"__proto__":null}}}',
      'integrations["a b"].__proto__',
    ],
  ];
  for (const [text, field] of table) {
    const result = normalize(json(text));
    t.strictSame(
      result,
      {
        ok: false,
        error: {
          code: EventCodes.FORBIDDEN_KEY,
          field,
          reason: `${field}: the key "__proto__" is not accepted anywhere in an event; rename it`,
        },
      },
      field,
    );
    const path = (json(text).type as 'track' | 'identify') ?? 'track';
    t.match(
      prepareHttpEvents(path, json(text), http),
      { ok: false, code: EventCodes.FORBIDDEN_KEY, reason: `${field}: the key` },
      `HTTP: ${field}`,
    );
  }
  t.end();
});

void t.test('a lone surrogate is refused in ids, values and keys; pairs are fine', (t) => {
  const table: Array<[string, string, 'key' | 'value']> = [
    ['{"type":"track","userId":"u\\ud800","event":"E"}', 'userId', 'value'],
    ['{"type":"track","anonymousId":"\\udc00x","event":"E"}', 'anonymousId', 'value'],
    [
      '{"type":"track","userId":"u1","event":"E","properties":{"tags":["ok","\\udbff"]}}',
      'properties.tags[1]',
      'value',
    ],
    ['{"type":"track","userId":"u1","event":"E","properties":{"\\ud83d":1}}', 'properties["\\ud83d"]', 'key'],
  ];
  for (const [text, field, what] of table) {
    t.match(
      normalize(json(text)),
      {
        ok: false,
        error: {
          code: EventCodes.LONE_SURROGATE,
          field,
          reason: `${field}: the ${what} holds a lone surrogate`,
        },
      },
      field,
    );
  }
  const paired = normalize(
    json(
      '{"type":"track","userId":"u\\ud83d\\ude00","event":"E","properties":{"\\ud83d\\ude00":"\\ud83d\\ude00"}}',
    ),
  );
  t.match(
    paired,
    { ok: true, event: { userKey: 'u😀', properties: { '😀': '😀' } } },
    'a surrogate pair is a character',
  );
  t.match(
    prepareHttpEvents(
      'batch',
      json('{"batch":[{"type":"track","userId":"u1","event":"E"}],"context":{"page":"\\ud800"}}'),
      http,
    ),
    {
      ok: false,
      code: EventCodes.LONE_SURROGATE,
      reason: /^context\.page: the value holds a lone surrogate/,
    },
    "HTTP: a batch's shared context is checked too",
  );
  t.end();
});

void t.test('constructor and prototype keys are ordinary keys', (t) => {
  const r = normalize(
    json('{"type":"track","userId":"u1","event":"E","properties":{"constructor":1,"prototype":{"x":2}}}'),
  );
  t.match(r, { ok: true, event: { properties: { constructor: 1, prototype: { x: 2 } } } });
  t.end();
});
