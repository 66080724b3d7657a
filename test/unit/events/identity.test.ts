// Profiles and aliases: Segment's trait merge, what each event type writes, and alias links.
import t from 'tap';
import {
  aliasTarget,
  mergeAliasedProfiles,
  mergeTraits,
  normalizeEvent,
  traitsForProfile,
} from '../../../libs/events/index.js';
import type { NormalizedEvent, Profile } from '../../../libs/journey/index.js';
import { ALIAS, GROUP, IDENTIFY, PAGE, RECEIVED_AT, SCREEN, TRACK, ids } from './fixtures.js';

function normalize(raw: unknown): NormalizedEvent {
  const result = normalizeEvent(raw, { receivedAt: RECEIVED_AT, generateId: ids() });
  if (!result.ok) throw new Error(result.error.reason);
  return result.event;
}

void t.test('mergeTraits: shallow, null stored, absent kept', (t) => {
  const profile: Profile = {
    traits: { email: 'a@example.com', plan: 'free', address: { city: 'Paris', zip: '75001' }, logins: 3 },
    audiences: ['high-value'],
  };
  const table: Array<[string, Profile | undefined, Record<string, unknown> | undefined, Profile]> = [
    [
      'first identify',
      undefined,
      { email: 'a@example.com' },
      { traits: { email: 'a@example.com' }, audiences: [] },
    ],
    ['no traits, no profile', undefined, undefined, { traits: {}, audiences: [] }],
    ['nothing sent keeps everything', profile, {}, profile],
    ['traits absent keeps everything', profile, undefined, profile],
    [
      'a new value replaces, others are kept',
      profile,
      { plan: 'pro' },
      { traits: { ...profile.traits, plan: 'pro' }, audiences: ['high-value'] },
    ],
    [
      'null is stored as null, not removed',
      profile,
      { plan: null },
      { traits: { ...profile.traits, plan: null }, audiences: ['high-value'] },
    ],
    [
      'a nested object replaces the stored one whole',
      profile,
      { address: { city: 'Lyon' } },
      { traits: { ...profile.traits, address: { city: 'Lyon' } }, audiences: ['high-value'] },
    ],
    ['undefined changes nothing', profile, { plan: undefined }, profile],
  ];
  for (const [name, before, traits, expected] of table) {
    const snapshot = structuredClone(before);
    const after = mergeTraits(before, traits);
    t.strictSame(after, expected, name);
    t.strictSame(before, snapshot, `${name}: the stored profile is not modified`);
    if (before) t.not(after.audiences, before.audiences, `${name}: audiences are copied`);
  }
  t.end();
});

void t.test('mergeTraits keeps a "__proto__" trait as data', (t) => {
  const traits = JSON.parse('{"__proto__":{"admin":true},"a":1}') as Record<string, unknown>;
  const merged = mergeTraits(undefined, traits).traits;
  t.ok(Object.hasOwn(merged, '__proto__'));
  t.equal(Object.getPrototypeOf(merged), Object.prototype);
  t.equal((merged as { admin?: unknown }).admin, undefined);
  t.strictSame(JSON.parse(JSON.stringify(merged)), { __proto__: { admin: true }, a: 1 });
  t.end();
});

void t.test('only identify writes traits to the profile; group traits stay on the event', (t) => {
  t.strictSame(traitsForProfile(normalize(IDENTIFY)), IDENTIFY.traits);
  for (const raw of [TRACK, PAGE, SCREEN, GROUP, ALIAS]) {
    t.equal(traitsForProfile(normalize(raw)), undefined, raw.type);
  }
  t.strictSame(normalize(GROUP).traits, GROUP.traits, 'the group traits are on the event');
  t.end();
});

void t.test('aliasTarget links previousId to userId', (t) => {
  t.strictSame(aliasTarget(normalize(ALIAS)), { from: '39239-239239-239239-23923', to: '507f191e81' });
  t.strictSame(aliasTarget(normalize({ type: 'alias', userId: 9, previousId: 8 })), { from: '8', to: '9' });
  t.equal(aliasTarget(normalize({ type: 'alias', userId: 'u', previousId: 'u' })), undefined, 'self alias');
  t.equal(aliasTarget(normalize(TRACK)), undefined, 'not an alias');
  // Events built by hand (simulator, tests) may lack what normalization guarantees.
  const alias = normalize(ALIAS);
  const { userId: _userId, ...withoutUserId } = alias;
  t.equal(aliasTarget(withoutUserId), undefined, 'no userId');
  t.equal(aliasTarget({ ...alias, properties: { previousId: 7 } }), undefined, 'previousId not a string');
  t.end();
});

void t.test('mergeAliasedProfiles: the canonical traits win, audiences are the union', (t) => {
  const previous: Profile = {
    traits: { email: 'anon@example.com', seen: 1 },
    audiences: ['visitors', 'cart'],
  };
  const canonical: Profile = {
    traits: { email: 'me@example.com', plan: 'pro' },
    audiences: ['cart', 'high-value'],
  };
  t.strictSame(mergeAliasedProfiles(previous, canonical), {
    traits: { email: 'me@example.com', seen: 1, plan: 'pro' },
    audiences: ['cart', 'high-value', 'visitors'],
  });
  t.strictSame(mergeAliasedProfiles(undefined, canonical), canonical);
  t.strictSame(mergeAliasedProfiles(previous, undefined), previous);
  t.strictSame(mergeAliasedProfiles(undefined, undefined), { traits: {}, audiences: [] });
  t.end();
});
