// Segment's documented complete examples, one per type (segmentio/segment-docs,
// src/connections/spec/{track,identify,page,screen,group,alias}.md), as a producer would send them.

export const TRACK = {
  anonymousId: '23adfd82-aa0f-45a7-a756-24f2a7a4c895',
  context: {
    library: { name: 'analytics.js', version: '2.11.1' },
    page: {
      path: '/academy/',
      referrer: '',
      search: '',
      title: 'Analytics Academy',
      url: 'https://segment.com/academy/',
    },
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36',
    ip: '108.0.78.21',
  },
  event: 'Course Clicked',
  integrations: {},
  messageId: 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96',
  properties: { title: 'Intro to Analytics' },
  receivedAt: '2015-12-12T19:11:01.266Z',
  sentAt: '2015-12-12T19:11:01.169Z',
  timestamp: '2015-12-12T19:11:01.249Z',
  type: 'track',
  userId: 'AiUGstSDIg',
  originalTimestamp: '2015-12-12T19:11:01.152Z',
};

const BROWSER_CONTEXT = {
  ip: '8.8.8.8',
  userAgent:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36',
};

const COMMON_2015 = {
  messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
  receivedAt: '2015-02-23T22:28:55.387Z',
  sentAt: '2015-02-23T22:28:55.111Z',
  timestamp: '2015-02-23T22:28:55.111Z',
  version: '1.1',
};

export const IDENTIFY = {
  anonymousId: '507f191e810c19729de860ea',
  channel: 'browser',
  context: BROWSER_CONTEXT,
  integrations: { All: false, Mixpanel: true, Salesforce: true },
  ...COMMON_2015,
  traits: {
    name: 'Peter Gibbons',
    email: 'peter@example.com',
    plan: 'premium',
    logins: 5,
    address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' },
  },
  type: 'identify',
  userId: '97980cfea0067',
};

export const PAGE = {
  anonymousId: '507f191e810c19729de860ea',
  channel: 'browser',
  context: BROWSER_CONTEXT,
  integrations: { All: true, Mixpanel: false, Salesforce: false },
  ...COMMON_2015,
  name: 'Home',
  properties: { title: 'Welcome | Initech', url: 'http://www.example.com' },
  type: 'page',
  userId: '97980cfea0067',
};

export const SCREEN = {
  anonymousId: '3a12eab0-bca7-11e4-8dfc-aa07a5b093db',
  channel: 'mobile',
  context: { ip: '8.8.8.8' },
  integrations: { All: true, Mixpanel: false, Salesforce: false },
  ...COMMON_2015,
  name: 'Home',
  properties: { variation: 'blue signup button' },
  type: 'screen',
  userId: '97980cfea0067',
};

export const GROUP = {
  anonymousId: '507f191e810c19729de860ea',
  channel: 'browser',
  context: BROWSER_CONTEXT,
  integrations: { All: true, Mixpanel: false, Salesforce: false },
  ...COMMON_2015,
  traits: {
    name: 'Initech',
    industry: 'Technology',
    employees: 329,
    plan: 'enterprise',
    'total billed': 830,
  },
  type: 'group',
  userId: '97980cfea0067',
  groupId: '0e8c78ea9d97a7b8185e8632',
};

export const ALIAS = {
  anonymousId: '507f191e810c19729de860ea',
  channel: 'browser',
  context: BROWSER_CONTEXT,
  integrations: { All: true, Mixpanel: false, Salesforce: false },
  ...COMMON_2015,
  previousId: '39239-239239-239239-23923',
  type: 'alias',
  userId: '507f191e81',
};

/** A fixed receive time and id generator: normalization is a function of these and the event. */
export const RECEIVED_AT = Date.UTC(2024, 4, 1, 12, 0, 0);
export const ids = (): (() => string) => {
  let n = 0;
  return () => `gen-${++n}`;
};
