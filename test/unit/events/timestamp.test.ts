// The ISO-8601 forms the Spec's timestamps accept, and the ones they refuse.
import t from 'tap';
import { parseSpecTimestamp } from '../../../libs/events/index.js';

void t.test('accepted forms', (t) => {
  const table: Array<[string, number]> = [
    ['2015-12-12T19:11:01.249Z', Date.UTC(2015, 11, 12, 19, 11, 1, 249)],
    ['2015-12-12t19:11:01.249z', Date.UTC(2015, 11, 12, 19, 11, 1, 249)],
    ['2015-12-12 19:11:01Z', Date.UTC(2015, 11, 12, 19, 11, 1)],
    ['2015-12-12T19:11Z', Date.UTC(2015, 11, 12, 19, 11)],
    ['2015-12-12T19:11:01.2Z', Date.UTC(2015, 11, 12, 19, 11, 1, 200)],
    ['2015-12-12T19:11:01,25Z', Date.UTC(2015, 11, 12, 19, 11, 1, 250)],
    ['2015-12-12T19:11:01.123456789Z', Date.UTC(2015, 11, 12, 19, 11, 1, 123)],
    ['2015-12-12T21:11:01+02:00', Date.UTC(2015, 11, 12, 19, 11, 1)],
    ['2015-12-12T21:11:01+0200', Date.UTC(2015, 11, 12, 19, 11, 1)],
    ['2015-12-12T21:11:01+02', Date.UTC(2015, 11, 12, 19, 11, 1)],
    ['2015-12-12T13:41:01-05:30', Date.UTC(2015, 11, 12, 19, 11, 1)],
    ['2015-12-12T00:30:00+23:59', Date.UTC(2015, 11, 11, 0, 31)],
    ['2015-12-12', Date.UTC(2015, 11, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29', Date.UTC(2000, 1, 29)],
    ['2023-04-30', Date.UTC(2023, 3, 30)],
    ['0050-06-01T00:00:00Z', -60_576_249_600_000],
    ['0001-01-01', -62_135_596_800_000],
    ['9999-12-31T23:59:59.999Z', 253_402_300_799_999],
  ];
  for (const [text, expected] of table) t.equal(parseSpecTimestamp(text), expected, text);
  t.end();
});

void t.test('refused forms', (t) => {
  const table = [
    '',
    'yesterday',
    '1714564800000',
    '2015-12-12T19:11:01', // no zone: local time would depend on the host
    '2015-12-12T19:11:01.249', // same
    '2015-12-12T19Z',
    '12/12/2015',
    'Sat, 12 Dec 2015 19:11:01 GMT',
    '2015-13-01',
    '2015-00-10',
    '2015-12-00',
    '2015-12-32',
    '2023-02-29', // not a leap year
    '1900-02-29', // century, not a leap year
    '2023-04-31',
    '2015-12-12T24:00:00Z',
    '2015-12-12T19:60:00Z',
    '2015-12-12T19:11:60Z', // leap seconds cannot be represented in epoch ms
    '2015-12-12T19:11:01+24:00',
    '2015-12-12T19:11:01+02:60',
    '2015-12-12T19:11:01.Z',
    '2015-12-12T19:11:01+2:00',
    ' 2015-12-12T19:11:01Z',
    '+002015-12-12T19:11:01Z',
  ];
  for (const text of table) t.equal(parseSpecTimestamp(text), undefined, JSON.stringify(text));
  t.end();
});
