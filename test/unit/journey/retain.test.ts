// Retention of ended instances, in tables: what retentionOf does to the instance at a key, and a
// compacted `once` instance answering decide() like the whole one (re-entry refused, its inputs
// duplicates) while keeping none of their data.
import t from 'tap';

import {
  compactEnded,
  decide,
  makeEvent,
  retentionOf,
  type Input,
  type Instance,
} from '../../../libs/journey/index.js';
import { ctxAt, journeyFrom, MIN, T0 } from './engine-helpers.js';

const ONCE = `
id: welcome
name: Welcome
trigger: { event: signed_up }
entry: { mode: once }
steps:
  - { id: wait, type: delay, after: 10m }
  - { id: hello, type: send, to: [crm], event: Welcome, payload: { plan: entry.properties.plan } }
`;
const journey = journeyFrom(ONCE);

function signup(offset: number, plan = 'pro'): Input {
  const e = makeEvent({
    name: 'signed_up',
    userId: 'u1',
    at: T0 + offset,
    properties: { plan, bio: 'b'.repeat(500) },
  });
  return { kind: 'event', id: e.messageId, event: e };
}

const entered = decide(journey, undefined, signup(0), ctxAt(T0)).instance as Instance;
const timer: Input = {
  kind: 'timer',
  id: `timer:${entered.waitToken}`,
  token: entered.waitToken!,
  at: T0 + 10 * MIN,
};
const ended = decide(journey, entered, timer, ctxAt(T0 + 10 * MIN)).instance as Instance;

void t.test('retentionOf: only the ended instance it was scheduled for', (t) => {
  const at = T0 + 8 * 24 * 60 * MIN;
  const cases: Array<[string, Instance | undefined, 'once' | 'every_time' | undefined, string]> = [
    ['no instance at the key', undefined, 'once', 'keep absent'],
    ['another instance at the key', { ...ended, id: 'other' }, 'every_time', 'keep other_instance'],
    ['still active', entered, 'once', 'keep active'],
    ['every_time, ended', ended, 'every_time', 'remove'],
    ['once, ended', ended, 'once', 'compact'],
    ['version gone: the safe side', ended, undefined, 'compact'],
    ['once, compacted already', compactEnded(ended, at), 'once', 'keep compacted'],
  ];
  for (const [name, instance, mode, want] of cases) {
    const r = retentionOf(instance, ended.id, mode, at);
    t.equal(r.action === 'keep' ? `keep ${r.reason}` : r.action, want, name);
  }
  t.end();
});

void t.test('a compacted once instance refuses re-entry and knows its inputs', (t) => {
  t.equal(ended.status, 'completed');
  const compact = compactEnded(ended, T0 + 100 * MIN);
  t.ok(JSON.stringify(compact).length < JSON.stringify(ended).length / 2, 'much smaller');
  t.same(compact.context.entry.properties, {});
  t.same(
    compact.applied.map((a) => a.inputId),
    ended.applied.map((a) => a.inputId),
  );
  const again = signup(200 * MIN, 'basic');
  const whole = decide(journey, ended, again, ctxAt(T0 + 200 * MIN));
  const small = decide(journey, compact, again, ctxAt(T0 + 200 * MIN));
  t.same(small.commands, whole.commands, 'the same refusal');
  t.match(small.commands, [{ kind: 'journal', record: { type: 'refused', reason: 'already_entered' } }]);
  t.equal(small.instance, compact, 'unchanged');
  const redelivered = decide(journey, compact, signup(0), ctxAt(T0 + 200 * MIN));
  t.equal(redelivered.duplicate, true, 'the entry redelivered is a duplicate');
  t.same(redelivered.commands, [], 'nothing to re-publish');
  const late = decide(journey, compact, timer, ctxAt(T0 + 200 * MIN));
  t.equal(late.duplicate, true, 'so is its timer');
  t.end();
});
