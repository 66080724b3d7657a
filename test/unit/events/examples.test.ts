// Segment's documented example of each type normalizes to exactly this NormalizedEvent.
import t from 'tap';
import { normalizeEvent, type NormalizeResult } from '../../../libs/events/index.js';
import type { NormalizedEvent } from '../../../libs/journey/index.js';
import { ALIAS, GROUP, IDENTIFY, PAGE, RECEIVED_AT, SCREEN, TRACK, ids } from './fixtures.js';

function ok(result: NormalizeResult): NormalizedEvent {
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.reason}`);
  return result.event;
}

// 2015-02-23T22:28:55.111Z is both sentAt and timestamp in the 2015 examples: no skew, so the
// corrected timestamp is Cairn's receive time.
const cases: Array<{ name: string; raw: Record<string, unknown>; expected: NormalizedEvent }> = [
  {
    name: 'track',
    raw: TRACK,
    expected: {
      type: 'track',
      name: 'Course Clicked',
      userKey: 'AiUGstSDIg',
      userId: 'AiUGstSDIg',
      anonymousId: '23adfd82-aa0f-45a7-a756-24f2a7a4c895',
      messageId: 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96',
      // originalTimestamp .152, sentAt .169: the call was 17 ms before the send.
      timestamp: RECEIVED_AT - 17,
      receivedAt: RECEIVED_AT,
      properties: { title: 'Intro to Analytics' },
      traits: {},
      context: TRACK.context,
    },
  },
  {
    name: 'identify',
    raw: IDENTIFY,
    expected: {
      type: 'identify',
      name: 'identify',
      userKey: '97980cfea0067',
      userId: '97980cfea0067',
      anonymousId: '507f191e810c19729de860ea',
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      timestamp: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      properties: {},
      traits: IDENTIFY.traits,
      context: IDENTIFY.context,
    },
  },
  {
    name: 'page',
    raw: PAGE,
    expected: {
      type: 'page',
      name: 'page',
      userKey: '97980cfea0067',
      userId: '97980cfea0067',
      anonymousId: '507f191e810c19729de860ea',
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      timestamp: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      properties: { title: 'Welcome | Initech', url: 'http://www.example.com', name: 'Home' },
      traits: {},
      context: PAGE.context,
    },
  },
  {
    name: 'screen',
    raw: SCREEN,
    expected: {
      type: 'screen',
      name: 'screen',
      userKey: '97980cfea0067',
      userId: '97980cfea0067',
      anonymousId: '3a12eab0-bca7-11e4-8dfc-aa07a5b093db',
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      timestamp: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      properties: { variation: 'blue signup button', name: 'Home' },
      traits: {},
      context: { ip: '8.8.8.8' },
    },
  },
  {
    name: 'group',
    raw: GROUP,
    expected: {
      type: 'group',
      name: 'group',
      userKey: '97980cfea0067',
      userId: '97980cfea0067',
      anonymousId: '507f191e810c19729de860ea',
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      timestamp: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      properties: { groupId: '0e8c78ea9d97a7b8185e8632' },
      traits: GROUP.traits,
      context: GROUP.context,
    },
  },
  {
    name: 'alias',
    raw: ALIAS,
    expected: {
      type: 'alias',
      name: 'alias',
      userKey: '507f191e81',
      userId: '507f191e81',
      anonymousId: '507f191e810c19729de860ea',
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      timestamp: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      properties: { previousId: '39239-239239-239239-23923' },
      traits: {},
      context: ALIAS.context,
    },
  },
];

for (const c of cases) {
  void t.test(`Segment's ${c.name} example`, (t) => {
    const event = ok(normalizeEvent(c.raw, { receivedAt: RECEIVED_AT, generateId: ids() }));
    t.strictSame(event, c.expected);
    // The type may come from the subject instead of the body.
    const { type: _type, ...withoutType } = c.raw;
    const hinted = ok(
      normalizeEvent(withoutType, { receivedAt: RECEIVED_AT, typeHint: c.expected.type, generateId: ids() }),
    );
    t.strictSame(hinted, c.expected, 'same event when the type comes from events.<type>');
    t.end();
  });
}

void t.test('the documented minimal examples (common fields removed) plus an identity', (t) => {
  const base = { userId: 'u1', messageId: 'm1' };
  const opts = { receivedAt: RECEIVED_AT, generateId: ids() };
  t.match(
    ok(
      normalizeEvent(
        {
          ...base,
          type: 'track',
          event: 'Registered',
          properties: { plan: 'Pro Annual', accountType: 'Facebook' },
        },
        opts,
      ),
    ),
    {
      name: 'Registered',
      properties: { plan: 'Pro Annual', accountType: 'Facebook' },
      timestamp: RECEIVED_AT,
    },
  );
  const identify = ok(
    normalizeEvent(
      {
        type: 'identify',
        traits: { name: 'Peter Gibbons', email: 'peter@example.com', plan: 'premium', logins: 5 },
        userId: '97980cfea0067',
      },
      opts,
    ),
  );
  t.strictSame(identify.traits, {
    name: 'Peter Gibbons',
    email: 'peter@example.com',
    plan: 'premium',
    logins: 5,
  });
  t.equal(identify.messageId, 'gen-1', 'a messageId is generated');
  t.equal(identify.context, undefined, 'no context key when none was sent');
  t.strictSame(
    ok(normalizeEvent({ ...base, type: 'alias', previousId: 'jen@email.com', userId: '507f191e81' }, opts))
      .properties,
    { previousId: 'jen@email.com' },
  );
  t.end();
});
