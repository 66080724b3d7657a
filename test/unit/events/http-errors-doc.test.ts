// docs/errors.md lists every HTTP answer code under ## HTTP Tracking API, and nothing else.
import { readFileSync } from 'node:fs';

import t from 'tap';

import { HttpCodes } from '../../../services/ingest/http.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = doc.split(/^## HTTP Tracking API$/m)[1]?.split(/^## /m)[0] ?? '';

void t.test('every HTTP code is documented under ## HTTP Tracking API', (t) => {
  t.ok(section.length > 0, 'the section exists');
  const listed = [...section.matchAll(/\| `(CAIRN_[EW]_[A-Z_]+)` \|/g)].map((m) => m[1] ?? '');
  t.strictSame(listed.sort(), Object.values(HttpCodes).sort());
  t.end();
});
