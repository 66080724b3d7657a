// docs/errors.md documents every error code the source can raise, not only the journey and
// HTTP ones: the source is scanned for `CAIRN_E_*` / `CAIRN_W_*` literals.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import t from 'tap';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

void t.test('every CAIRN_E_/CAIRN_W_ code in libs/ and services/ has a row in docs/errors.md', (t) => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(CAIRN_[EW]_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  const codes = new Map<string, string>();
  for (const file of [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'services'))]) {
    // A whole code: a prefix such as `CAIRN_E_EVENT_*` in a comment ends with `_`.
    for (const m of readFileSync(file, 'utf8').matchAll(/CAIRN_[EW]_[A-Z0-9_]*[A-Z0-9]\b(?!_)/g)) {
      if (!codes.has(m[0])) codes.set(m[0], file.slice(ROOT.length));
    }
  }
  t.ok(codes.size > 50, `the scan finds the codes (${codes.size})`);
  for (const [code, file] of codes) t.ok(documented.has(code), `${code} (${file}) is documented`);
  t.end();
});
