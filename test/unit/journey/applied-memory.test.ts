// The applied memory of an instance is bounded in bytes, not only in count: the last 8 input
// ids, the newest input's commands, older inputs' commands within APPLIED_COMMANDS_BYTES. Large
// payloads no longer pile up in the instance, and every remembered input stays a duplicate.
import t from 'tap';

import {
  APPLIED_COMMANDS_BYTES,
  APPLIED_MEMORY,
  decide,
  makeEvent,
  type Input,
  type Instance,
} from '../../../libs/journey/index.js';
import { ctxAt, journeyFrom, SEC, T0 } from './engine-helpers.js';

// Every entry at the same key sends the entry's `blob` to five destinations, then completes;
// the next trigger re-enters the ended instance (epoch n + 1), which carries its memory over.
const FORM = `
id: form
name: Form
trigger: { event: form_sent }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - id: notify
    type: send
    to: [a, b, c, d, e]
    event: Form Sent
    payload: { blob: entry.properties.blob }
`;
const journey = journeyFrom(FORM);
const BLOB = 'x'.repeat(20_000);

function sent(i: number): Input {
  const e = makeEvent({
    name: 'form_sent',
    userId: 'u1',
    at: T0 + i * SEC,
    properties: { form_id: 'f', blob: BLOB },
  });
  return { kind: 'event', id: e.messageId, event: e };
}

const HOUR_LATER = 3_600_000;
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

void t.test('large payloads: the stored instance stays under the byte bound', (t) => {
  let instance: Instance | undefined;
  const inputs: Input[] = [];
  for (let i = 0; i < 12; i++) {
    const input = sent(i);
    inputs.push(input);
    const d = decide(journey, instance, input, ctxAt(T0 + i * SEC));
    t.equal(d.commands.filter((c) => c.kind === 'deliver').length, 5, `entry ${i + 1} sends five`);
    instance = d.instance;
  }
  if (!instance) throw new Error('no instance');
  const newest = instance.applied.at(-1)!;
  t.equal(instance.applied.length, APPLIED_MEMORY, 'eight ids');
  t.equal(newest.inputId, inputs.at(-1)!.id);
  t.equal(newest.commands.filter((c) => c.kind === 'deliver').length, 5, 'the newest keeps its commands');
  const older = instance.applied.slice(0, -1).reduce((n, a) => n + bytes(a.commands), 0);
  t.ok(older <= APPLIED_COMMANDS_BYTES, `older inputs' commands take ${older} bytes`);
  // Five payloads of 20 kB for the newest input, the entry's blob in the context, and little else.
  const total = bytes(instance);
  t.ok(total < 7 * BLOB.length + APPLIED_COMMANDS_BYTES, `the instance takes ${total} bytes`);
  t.comment(`instance: ${total} bytes after 12 entries of 5 x 20 kB sends`);

  // Every remembered input is still recognised: the newest with its commands, older ones without.
  const again = decide(journey, instance, inputs.at(-1)!, ctxAt(T0 + HOUR_LATER));
  t.equal(again.duplicate, true);
  t.same(again.commands, newest.commands);
  const old = decide(journey, instance, inputs.at(-8)!, ctxAt(T0 + HOUR_LATER));
  t.equal(old.duplicate, true, 'an older input is a duplicate');
  t.same(old.commands, [], 'with nothing to re-publish');
  const forgotten = decide(journey, instance, inputs[0]!, ctxAt(T0 + HOUR_LATER));
  t.equal(forgotten.duplicate, false, 'the 9th newest is forgotten, as before');
  t.end();
});

void t.test('small commands: older inputs keep theirs, as before', (t) => {
  const small = journeyFrom(
    FORM.replace('to: [a, b, c, d, e]', 'to: [a]').replace('payload: { blob: entry.properties.blob }', ''),
  );
  let instance: Instance | undefined;
  for (let i = 0; i < 10; i++) {
    const e = makeEvent({ name: 'form_sent', userId: 'u1', at: T0 + i * SEC, properties: { form_id: 'f' } });
    instance = decide(
      small,
      instance,
      { kind: 'event', id: e.messageId, event: e },
      ctxAt(T0 + i * SEC),
    ).instance;
  }
  t.equal(instance?.applied.length, APPLIED_MEMORY);
  t.ok(
    instance?.applied.every((a) => a.commands.length > 0),
    'every remembered input keeps its commands',
  );
  t.end();
});
