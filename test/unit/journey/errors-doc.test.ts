// docs/errors.md lists every journey code, and lists no code that does not exist.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { JourneyCodes } from '../../../libs/journey/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = doc.split(/^## Journey validation$/m)[1]?.split(/^## /m)[0] ?? '';

void t.test('every journey code is documented under ## Journey validation', (t) => {
  t.ok(section.length > 0, 'the section exists');
  for (const code of Object.values(JourneyCodes)) {
    t.ok(section.includes(`| \`${code}\` |`), `${code} has a row`);
  }
  t.end();
});

void t.test('every documented journey code exists', (t) => {
  const known = new Set<string>(Object.values(JourneyCodes));
  const listed = [...section.matchAll(/\| `(CAIRN_[EW]_JOURNEY_[A-Z_]+)` \|/g)].map((m) => m[1] ?? '');
  t.equal(listed.length, known.size);
  for (const code of listed) t.ok(known.has(code), `${code} is a code`);
  t.end();
});
