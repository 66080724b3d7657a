// The HTTP Tracking API's request rules, without a server: what is refused with 400, and what
// each accepted event looks like when stored in EVENTS.
import t from 'tap';

import { HTTP_LIMITS, prepareHttpEvents, writeKeyFromBasicAuth } from '../../../libs/events/index.js';

let n = 0;
const opts = { generateId: () => `gen-${++n}` };

void t.test('a single event: type from the path, id assigned, write key removed', (t) => {
  n = 0;
  const r = prepareHttpEvents('track', { userId: 'u', event: 'E', writeKey: 'k' }, opts);
  t.same(r, {
    ok: true,
    writeKey: 'k',
    events: [
      {
        subject: 'events.track',
        messageId: 'gen-1',
        body: { userId: 'u', event: 'E', type: 'track', messageId: 'gen-1' },
      },
    ],
  });
  const own = prepareHttpEvents('identify', { userId: 'u', messageId: 'm-1', type: 'track' }, opts);
  t.match(
    own,
    { ok: true, events: [{ subject: 'events.track', messageId: 'm-1' }] },
    'a body type wins; normalization reports the mismatch',
  );
  t.notOk('writeKey' in (own.ok ? own : {}), 'no write key in the body');
  t.end();
});

void t.test('a batch: sentAt, context and integrations of the batch as defaults', (t) => {
  const r = prepareHttpEvents(
    'batch',
    {
      sentAt: '2026-01-01T00:00:00Z',
      context: { library: { name: 'x' }, ip: '1.2.3.4' },
      integrations: { All: true },
      batch: [
        { type: 'track', userId: 'u', event: 'A', messageId: 'a', context: { ip: '5.6.7.8' } },
        { type: 'page', userId: 'u', messageId: 'b', sentAt: '2026-01-02T00:00:00Z', integrations: 'bad' },
        { userId: 'u', event: 'no type', messageId: 'c' },
        { type: 'evil.>', userId: 'u', messageId: 'd' },
      ],
    },
    opts,
  );
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.same(
    r.events.map((e) => e.subject),
    ['events.track', 'events.page', 'events.unknown', 'events.unknown'],
  );
  t.same(r.events[0]!.body, {
    type: 'track',
    userId: 'u',
    event: 'A',
    messageId: 'a',
    context: { library: { name: 'x' }, ip: '5.6.7.8' },
    sentAt: '2026-01-01T00:00:00Z',
    integrations: { All: true },
  });
  t.equal(r.events[1]!.body.sentAt, '2026-01-02T00:00:00Z', 'an item sentAt wins');
  t.equal(r.events[1]!.body.integrations, 'bad', 'a malformed item field is left for normalization');
  t.end();
});

void t.test('a malformed messageId is kept for normalization to refuse', (t) => {
  const r = prepareHttpEvents('track', { userId: 'u', event: 'E', messageId: 42 }, opts);
  t.match(r, { ok: true, events: [{ messageId: '42', body: { messageId: 42 } }] });
  t.end();
});

void t.test('refusals name the problem', (t) => {
  const big = 'x'.repeat(HTTP_LIMITS.maxEventBytes);
  const cases: Array<[Parameters<typeof prepareHttpEvents>[0], unknown, RegExp]> = [
    ['track', null, /must be a JSON object, got null/],
    ['track', [], /got an array/],
    ['track', { userId: 'u', p: big }, /the limit is 32768 bytes/],
    ['batch', { batch: 'x' }, /"batch" must be an array/],
    ['batch', { batch: [1] }, /batch\[0\] must be an event object/],
    ['batch', { batch: [{ p: big }] }, /batch\[0\] is \d+ bytes/],
    ['batch', { batch: [{}, {}, {}] }, /3 events; the limit is 2/],
  ];
  for (const [path, body, reason] of cases) {
    const r = prepareHttpEvents(path, body, { ...opts, limits: { maxBatchEvents: 2 } });
    t.equal(r.ok, false, String(reason));
    if (!r.ok) t.match(r.reason, reason);
  }
  t.end();
});

void t.test('ids too long and events too deep are refused with their event code', (t) => {
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const long = 'x'.repeat(257);
  const cases: Array<[Parameters<typeof prepareHttpEvents>[0], unknown, string, RegExp]> = [
    ['track', { userId: 'u', properties: { deep } }, 'CAIRN_E_EVENT_TOO_DEEP', /^the event nests/],
    ['batch', { batch: [{ userId: 'u' }, { userId: 'u', deep }] }, 'CAIRN_E_EVENT_TOO_DEEP', /^batch\[1\]: /],
    ['track', { userId: long }, 'CAIRN_E_EVENT_ID_TOO_LONG', /^userId must be at most 256/],
    ['identify', { anonymousId: long }, 'CAIRN_E_EVENT_ID_TOO_LONG', /^anonymousId /],
    ['alias', { userId: 'u', previousId: long }, 'CAIRN_E_EVENT_ID_TOO_LONG', /^previousId /],
    [
      'batch',
      { batch: [{ type: 'group', userId: 'u', groupId: long }] },
      'CAIRN_E_EVENT_ID_TOO_LONG',
      /^batch\[0\]\.groupId /,
    ],
    ['track', { userId: 'u', messageId: long }, 'CAIRN_E_EVENT_MESSAGE_ID_TOO_LONG', /^messageId /],
  ];
  for (const [path, body, code, reason] of cases) {
    const r = prepareHttpEvents(path, body, opts);
    t.match(r, { ok: false, code, reason }, `${path}: ${String(reason)}`);
  }
  t.end();
});

void t.test('Basic auth: the user part is the write key', (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  t.equal(writeKeyFromBasicAuth(`Basic ${b64('key1:')}`), 'key1');
  t.equal(writeKeyFromBasicAuth(`basic ${b64('key1:ignored')}`), 'key1');
  t.equal(writeKeyFromBasicAuth(`Basic ${b64('key1')}`), 'key1', 'without the colon');
  t.equal(writeKeyFromBasicAuth(`Basic ${b64(':pw')}`), undefined);
  t.equal(writeKeyFromBasicAuth('Bearer abc'), undefined);
  t.equal(writeKeyFromBasicAuth('Basic %%%'), undefined);
  t.equal(writeKeyFromBasicAuth('Basic a'), undefined, 'not base64');
  t.equal(writeKeyFromBasicAuth(undefined), undefined);
  t.end();
});
