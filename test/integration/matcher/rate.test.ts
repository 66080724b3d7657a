// The per-user rate limit of entries (25 events/s by default) counts each event once: inputs
// redelivered to the matcher (the same event in a new MATCH message, as after a crash or a
// retry) do not push the user's later events over the limit.
import t from 'tap';

import { publishJourneyVersion } from '../../../libs/bus/index.js';
import { parseJourney } from '../../../libs/journey/index.js';
import { waitUntil } from '../../helpers/bus.js';
import { track, withMatcher } from './helpers.js';

const SIGNUP = `
id: welcome
name: Welcome
trigger: { event: form_sent }
entry: { mode: every_time, uniqueBy: properties.form_id }
`;

void t.test('redelivered inputs do not count twice against the per-user rate', async (t) => {
  const h = await withMatcher(t);
  const parsed = parseJourney(SIGNUP);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await publishJourneyVersion(h.bus, parsed.journey);
  await h.start();

  // 20 distinct events within one second, each delivered twice: 40 inputs, 20 events.
  const base = Date.now();
  for (let i = 0; i < 20; i++) {
    const event = track('carol', 'form_sent', { form_id: `f-${i}` }, base + i);
    await h.sendEvent(event);
    await h.sendEvent(event, `${event.messageId}:redelivered`);
  }
  await h.drained();
  await waitUntil(
    async () =>
      (await h.journal()).filter((r) => r.value.type === 'entered' || r.value.type === 'refused').length >=
      20,
    10_000,
    'a verdict on each of the 20 events',
  );
  const records = (await h.journal()).map((r) => r.value);
  t.equal(records.filter((r) => r.type === 'entered').length, 20, 'every distinct event entered');
  t.same(
    records.filter((r) => r.type === 'refused').map((r) => r.reason),
    [],
    'none refused for the rate',
  );
});
