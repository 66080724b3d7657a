// The stats route after real events went through ingest and the matcher: the counts the journal
// projection keeps, over HTTP, equal what the simulator counts for the same events.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- the JSON answers are checked field by field */
import { isDeepStrictEqual } from 'node:util';

import t from 'tap';

import type { JourneyStats } from '../../../libs/insight/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { publishEvents, publishJourneys, startPipeline } from '../../helpers/pipeline.js';
import { countsOf, expectedStats, statsEvents, statsJourney } from '../../helpers/stats-journey.js';
import { READ_TOKEN, TOKENS_ENV, withAdmin } from './helpers.js';

void t.test('the stats route returns the projected counts of real events', async (t) => {
  const p = await startPipeline(t, TOKENS_ENV);
  const client = await withAdmin(t, p.bus, p.config);
  const doc = statsJourney();
  await publishJourneys(p.bus, doc);
  const before = await client.call('GET', `/api/v1/journeys/${doc.id}/stats`, { token: READ_TOKEN });
  t.equal(before.status, 200);
  t.equal(before.body.entered, 0, 'nothing counted before the events');

  const events = statsEvents(12);
  const expected = countsOf(expectedStats(doc, events, Date.now()));
  t.equal(expected.entered, 12);
  await publishEvents(p.bus, events);
  let last: unknown;
  await waitUntil(
    async () => {
      const res = await client.call('GET', `/api/v1/journeys/${doc.id}/stats`, { token: READ_TOKEN });
      last = res.status === 200 ? countsOf(res.body as JourneyStats) : res.body;
      return isDeepStrictEqual(last, expected);
    },
    60_000,
    'the stats route to return the simulator counts',
  ).catch(() => undefined);
  t.same(last, expected, 'the counts over HTTP are the simulator counts');

  // The journey list carries the active version's last 24 hours, summed as the stats say.
  const exp = expected as JourneyStats;
  const list = await client.call('GET', '/api/v1/journeys', { token: READ_TOKEN });
  t.equal(list.status, 200);
  const row = list.body.journeys.find((j: { id: string }) => j.id === doc.id);
  t.same(
    {
      enteredToday: row.enteredToday,
      current: row.current,
      deliveries: row.deliveries,
      failures: row.failures,
    },
    {
      enteredToday: 12,
      current: exp.steps.reduce((n, s) => n + s.current, 0),
      deliveries: exp.steps.reduce(
        (n, s) => n + Object.values(s.sends ?? {}).reduce((m, x) => m + x.sent, 0),
        0,
      ),
      failures: 0,
    },
  );
  t.ok(row.deliveries > 0 && row.current > 0, 'counts that can be wrong');

  const day = await client.call('GET', `/api/v1/journeys/${doc.id}/stats?since=24h`);
  t.equal(day.status, 200);
  t.equal(day.body.entered, 12, 'the last 24 hours hold every entry');
  t.equal(day.body.version, 1);

  const noVersion = await client.call('GET', `/api/v1/journeys/${doc.id}/stats?version=9`);
  t.equal(noVersion.status, 404);
  t.equal(noVersion.body.error.code, 'CAIRN_E_STATS_NOT_FOUND');
  t.equal(noVersion.body.error.message, `journey ${doc.id} has no version 9`);
  const noShadow = await client.call('GET', `/api/v1/journeys/${doc.id}/stats?shadow=true`);
  t.equal(noShadow.status, 404);
  t.match(noShadow.body.error.hint, /--shadow/);
});
