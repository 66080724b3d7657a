import { readFile } from 'node:fs/promises';

import t from 'tap';

import { SETTINGS } from '../../../libs/config/index.js';

void t.test('docs/configuration.md documents every variable, with its default', async (t) => {
  const doc = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  t.same([...rows.keys()].sort(), SETTINGS.map((s) => s.variable).sort());
  for (const s of SETTINGS) {
    if (s.default) t.equal(rows.get(s.variable), `\`${s.default}\``, s.variable);
  }
});
