// Coverage gates per area (tap 21 gates only the whole run). Reads .tap/report/coverage-summary.json,
// written by `tap --coverage-report=json-summary`, and fails when an area is under its floor.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const GATES = [{ area: 'libs/journey/', lines: 95, branches: 95 }];

const summary = JSON.parse(readFileSync('.tap/report/coverage-summary.json', 'utf8'));
let failed = false;
for (const gate of GATES) {
  const totals = { lines: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } };
  for (const [file, s] of Object.entries(summary)) {
    if (file === 'total' || !relative(process.cwd(), file).startsWith(gate.area)) continue;
    for (const k of ['lines', 'branches']) {
      totals[k].covered += s[k].covered;
      totals[k].total += s[k].total;
    }
  }
  for (const k of ['lines', 'branches']) {
    const { covered, total } = totals[k];
    if (total === 0) {
      console.error(`coverage gate: no ${k} measured under ${gate.area}; are its tests running?`);
      failed = true;
      continue;
    }
    const pct = (100 * covered) / total;
    const ok = pct >= gate[k];
    console.log(
      `coverage ${gate.area} ${k}: ${pct.toFixed(1)}% (${covered}/${total}), floor ${gate[k]}% ${ok ? 'ok' : 'FAILED'}`,
    );
    if (!ok) failed = true;
  }
}
process.exit(failed ? 1 : 0);
