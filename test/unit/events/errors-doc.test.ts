// docs/errors.md lists every event code under ## Events, and no code that does not exist;
// EventError carries a problem's code.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { EventCodes, EventError } from '../../../libs/events/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = doc.split(/^## Events$/m)[1]?.split(/^## /m)[0] ?? '';

void t.test('every event code is documented under ## Events', (t) => {
  t.ok(section.length > 0, 'the section exists');
  for (const code of Object.values(EventCodes))
    t.ok(section.includes(`| \`${code}\` |`), `${code} has a row`);
  const listed = [...section.matchAll(/\| `(CAIRN_[EW]_[A-Z_]+)` \|/g)].map((m) => m[1] ?? '');
  t.strictSame(listed.sort(), Object.values(EventCodes).sort(), 'and nothing else');
  t.end();
});

void t.test('EventError', (t) => {
  const problem = { code: EventCodes.NO_IDENTITY, reason: 'no id' };
  const error = new EventError(problem);
  t.equal(error.code, 'CAIRN_E_EVENT_NO_IDENTITY');
  t.equal(error.message, 'CAIRN_E_EVENT_NO_IDENTITY: no id');
  t.equal(error.name, 'EventError');
  t.equal(error.problem, problem);
  t.ok(error instanceof Error);
  t.end();
});
