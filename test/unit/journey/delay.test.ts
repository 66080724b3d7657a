// Delays: a fixed time, or until a timestamp in the context plus an offset.
import t from 'tap';
import { simulate } from '../../../libs/journey/index.js';
import { HOUR, journalLines, journeyFrom, MIN, T0 } from './engine-helpers.js';

const REMINDER = `
id: reminder
name: Appointment reminder
trigger: { event: appointment_booked }
entry: { mode: every_time, uniqueBy: properties.appointment_id }
steps:
  - { id: before-appt, type: delay, until: entry.properties.appointment_at, offset: -1h }
  - { id: remind, type: send, to: [sms], event: Reminder }
`;

void t.test('delay until a context timestamp, with an offset', (t) => {
  const journey = journeyFrom(REMINDER);
  const booked = (id: string, at: unknown) => ({
    name: 'appointment_booked',
    userId: 'u1',
    at: T0,
    properties: { appointment_id: id, ...(at !== undefined && { appointment_at: at }) },
  });
  const timeline = simulate(journey, [
    booked('iso', new Date(T0 + 5 * HOUR).toISOString()),
    booked('millis', T0 + 3 * HOUR),
    booked('missing', undefined),
    booked('garbage', 'next tuesday'),
    booked('object', { when: 1 }),
    booked('past', T0 + 30 * MIN), // 1h before is already past
    booked('nan', Number.NaN),
  ]);
  t.same(
    timeline.sends.map((s) => [
      s.at - T0,
      (s.payload.properties as { journey_context: Record<string, { appointment_id: string }> })
        .journey_context.appointment_booked?.appointment_id,
    ]),
    [
      [0, 'missing'],
      [0, 'garbage'],
      [0, 'object'],
      [0, 'past'],
      [0, 'nan'],
      [2 * HOUR, 'millis'],
      [4 * HOUR, 'iso'],
    ],
  );
  t.same(
    journalLines(timeline).filter((l) => l.startsWith('step') && l.includes('delay_until')),
    [
      'step delay_until_missing before-appt',
      'step delay_until_missing before-appt',
      'step delay_until_missing before-appt',
      'step delay_until_past before-appt',
      'step delay_until_missing before-appt',
    ],
  );
  t.end();
});

void t.test('a fixed delay waits, then the instance goes on', (t) => {
  const journey = journeyFrom(`
id: fixed
name: Fixed
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: wait, type: delay, after: 90m }
  - { id: hello, type: send, to: [crm] }
`);
  const timeline = simulate(journey, [{ name: 'signed_up', userId: 'u1', at: T0 }]);
  t.same(
    timeline.sends.map((s) => [s.at - T0, s.stepKey.stepId]),
    [[90 * MIN, 'hello']],
  );
  t.same(journalLines(timeline), [
    'entered',
    'step wait',
    'waiting wait',
    'timer.fired delay_elapsed wait',
    'step hello',
    'sent hello',
    'completed end_of_path',
  ]);
  t.same(
    timeline.timers.map((x) => [x.at - T0, x.outcome]),
    [[90 * MIN, 'fired']],
  );
  t.end();
});
