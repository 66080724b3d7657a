// Audiences as pure decisions: definitions, computed membership, fed changes.
import t from 'tap';

import {
  applyAudienceChange,
  audienceChange,
  computeAudiences,
  parseAudienceDefinitions,
} from '../../../libs/events/index.js';
import { makeEvent } from '../../../libs/journey/index.js';

void t.test('definitions: validated, paths start at traits', (t) => {
  const defs = parseAudienceDefinitions({
    audiences: [
      { id: 'pro', where: { 'traits.plan': 'pro' } },
      { id: 'big', where: { 'traits.ltv': { gte: 100 } } },
    ],
  });
  t.same(
    defs.map((d) => d.id),
    ['pro', 'big'],
  );
  t.throws(() => parseAudienceDefinitions({}), /audiences/);
  t.throws(() => parseAudienceDefinitions({ audiences: [{ id: '-x', where: {} }] }), /audiences\.0\.id/);
  t.throws(
    () =>
      parseAudienceDefinitions({
        audiences: [
          { id: 'a', where: {} },
          { id: 'a', where: {} },
        ],
      }),
    /a is defined twice/,
  );
  t.throws(
    () => parseAudienceDefinitions({ audiences: [{ id: 'a', where: { plan: 'x' } }] }),
    /must start with traits\./,
  );
  t.throws(
    () => parseAudienceDefinitions({ audiences: [{ id: 'a', where: { 'traits.x': { bogus: 1 } } }] }),
    /a: invalid condition/,
  );
  t.end();
});

void t.test('computed membership follows traits and keeps fed audiences', (t) => {
  const defs = parseAudienceDefinitions({
    audiences: [
      { id: 'pro', where: { 'traits.plan': 'pro' } },
      { id: 'big', where: { 'traits.ltv': { gte: 100 } } },
    ],
  });
  t.same(computeAudiences(defs, { plan: 'pro', ltv: 5 }, ['fed']), ['fed', 'pro']);
  t.same(computeAudiences(defs, { plan: 'free', ltv: 500 }, ['fed', 'pro']), ['fed', 'big']);
  t.same(computeAudiences([], { plan: 'pro' }, ['pro']), ['pro'], 'no definitions: nothing computed');
  t.end();
});

void t.test('fed changes: Audience Entered / Exited', (t) => {
  const ev = (name: string, properties: Record<string, unknown>, type: 'track' | 'identify' = 'track') =>
    makeEvent({ type, name, userId: 'u', properties, at: 0 });
  t.same(audienceChange(ev('Audience Entered', { audience_key: 'vip' })), { audience: 'vip', entered: true });
  t.same(audienceChange(ev('Audience Exited', { audience_id: 'vip' })), { audience: 'vip', entered: false });
  t.same(audienceChange(ev('Audience Entered', { audience: 'vip' })), { audience: 'vip', entered: true });
  t.equal(audienceChange(ev('Audience Entered', { audience_key: 'a b' })), undefined);
  t.equal(audienceChange(ev('Audience Entered', {})), undefined);
  t.equal(audienceChange(ev('Other', { audience_key: 'vip' })), undefined);
  t.equal(audienceChange(ev('identify', { audience_key: 'vip' }, 'identify')), undefined);

  const current = ['a'];
  t.equal(applyAudienceChange(current, { audience: 'a', entered: true }), current, 'unchanged: same array');
  t.same(applyAudienceChange(current, { audience: 'b', entered: true }), ['a', 'b']);
  t.same(applyAudienceChange(current, { audience: 'a', entered: false }), []);
  t.equal(applyAudienceChange(current, { audience: 'z', entered: false }), current);
  t.end();
});
