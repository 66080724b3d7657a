// Clock-skew correction, as a table of client clocks against Cairn's receive time.
import t from 'tap';
import { correctTimestamp, normalizeEvent, type ClientTimes } from '../../../libs/events/index.js';
import { RECEIVED_AT, ids } from './fixtures.js';

const R = 1_000_000;

void t.test('correctTimestamp', (t) => {
  const table: Array<[string, ClientTimes, number]> = [
    ['nothing from the client: the receive time', { receivedAt: R }, R],
    ['a client timestamp alone: as sent (historical import)', { receivedAt: R, timestamp: 500 }, 500],
    ['originalTimestamp alone: as sent', { receivedAt: R, originalTimestamp: 600 }, 600],
    ['sentAt alone: nothing to correct', { receivedAt: R, sentAt: 700 }, R],
    [
      'device clock 1 h slow, sent 2 s after the call',
      { receivedAt: R, originalTimestamp: 0, sentAt: 2000 },
      R - 2000,
    ],
    [
      'device clock 1 h fast',
      { receivedAt: R, originalTimestamp: R + 3_600_000, sentAt: R + 3_601_000 },
      R - 1000,
    ],
    ['timestamp stands in for originalTimestamp', { receivedAt: R, timestamp: 100, sentAt: 400 }, R - 300],
    [
      'originalTimestamp wins over timestamp',
      { receivedAt: R, originalTimestamp: 100, timestamp: 999_999, sentAt: 150 },
      R - 50,
    ],
    ['sent at the call instant', { receivedAt: R, timestamp: 42, sentAt: 42 }, R],
    [
      'sentAt before the call (a bad clock): taken as is',
      { receivedAt: R, timestamp: 500, sentAt: 400 },
      R + 100,
    ],
  ];
  for (const [name, times, expected] of table) t.equal(correctTimestamp(times), expected, name);
  t.end();
});

void t.test('normalizeEvent applies the correction to ISO timestamps', (t) => {
  const base = { type: 'track', event: 'x', userId: 'u' };
  const table: Array<[string, Record<string, unknown>, number]> = [
    ['no client times', {}, RECEIVED_AT],
    ['timestamp only', { timestamp: '2020-01-01T00:00:00.000Z' }, Date.UTC(2020, 0, 1)],
    [
      'originalTimestamp and sentAt: 250 ms in the device queue',
      { originalTimestamp: '2020-01-01T00:00:00.000Z', sentAt: '2020-01-01T00:00:00.250Z' },
      RECEIVED_AT - 250,
    ],
    [
      'analytics-node: timestamp per event, the batch sentAt copied onto it by the HTTP API',
      { timestamp: '2020-01-01T00:00:00.000Z', sentAt: '2020-01-01T00:00:03.000Z' },
      RECEIVED_AT - 3000,
    ],
    ['a null sentAt is none', { timestamp: '2020-01-01T00:00:00.000Z', sentAt: null }, Date.UTC(2020, 0, 1)],
    [
      'offsets are honoured',
      { originalTimestamp: '2020-01-01T02:00:00+02:00', sentAt: '2020-01-01T00:00:00.500Z' },
      RECEIVED_AT - 500,
    ],
    [
      "a sent receivedAt is ignored: Cairn's receive time rules",
      { receivedAt: '1999-01-01T00:00:00Z' },
      RECEIVED_AT,
    ],
  ];
  for (const [name, times, expected] of table) {
    const result = normalizeEvent({ ...base, ...times }, { receivedAt: RECEIVED_AT, generateId: ids() });
    t.match(result, { ok: true, event: { timestamp: expected, receivedAt: RECEIVED_AT } }, name);
  }
  t.end();
});
