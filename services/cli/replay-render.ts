// What `cairn replay` prints: the step tree of a JourneyStats (the shape `cairn journey stats`
// prints), the side-by-side table of a compare, journal lines of a user, and the progress bar.
import type { JourneyStats, StepStats } from '../../libs/insight/types.js';
import type { JournalRecord } from '../../libs/journey/index.js';

const iso = (at: number): string => new Date(at).toISOString();

const counts = (c: Record<string, number>): string =>
  Object.keys(c).length === 0
    ? '0'
    : Object.entries(c)
        .map(([k, n]) => `${k}=${n}`)
        .join(' ');

/** The lines under a step: its branches and its destinations. */
function stepDetail(step: StepStats): Array<[label: string, value: string]> {
  const out: Array<[string, string]> = [];
  for (const [branch, n] of Object.entries(step.branches ?? {})) out.push([`-> ${branch}`, String(n)]);
  for (const [dest, c] of Object.entries(step.sends ?? {}))
    out.push([`=> ${dest}`, `sent ${c.sent}${c.failed ? `  failed ${c.failed}` : ''}`]);
  return out;
}

/** The step tree of one run: totals, then each step with its branches and destinations. */
export function replayTreeLines(stats: JourneyStats): string[] {
  const lines = [
    `${stats.journeyId} v${stats.version ?? '*'}  entered ${stats.entered}  completed ${stats.completed}  ` +
      `exited ${counts(stats.exited)}  active ${stats.active}  refused ${counts(stats.refused)}`,
  ];
  const width = Math.max(...stats.steps.map((s) => s.stepId.length + s.type.length + 3), 10);
  for (const step of stats.steps) {
    const name = `${step.stepId} (${step.type})`.padEnd(width);
    const current = step.current ? `  waiting ${step.current}` : '';
    lines.push(`  ${name}  entered ${step.entered}${current}`);
    for (const [label, value] of stepDetail(step)) lines.push(`    ${label.padEnd(width - 2)}  ${value}`);
  }
  return lines;
}

/** Two runs side by side, row by row: totals, steps, branches, destinations. */
export function compareLines(
  left: { label: string; stats: JourneyStats },
  right: { label: string; stats: JourneyStats },
): string[] {
  const rows: Array<[string, string, string]> = [
    ['entered', String(left.stats.entered), String(right.stats.entered)],
    ['completed', String(left.stats.completed), String(right.stats.completed)],
    ['exited', counts(left.stats.exited), counts(right.stats.exited)],
    ['active', String(left.stats.active), String(right.stats.active)],
    ['refused', counts(left.stats.refused), counts(right.stats.refused)],
  ];
  const ids = [...left.stats.steps.map((s) => s.stepId)];
  for (const s of right.stats.steps) if (!ids.includes(s.stepId)) ids.push(s.stepId);
  for (const id of ids) {
    const a = left.stats.steps.find((s) => s.stepId === id);
    const b = right.stats.steps.find((s) => s.stepId === id);
    const type = (a ?? b)?.type ?? '';
    rows.push([`${id} (${type})`, a ? String(a.entered) : '-', b ? String(b.entered) : '-']);
    const da = new Map(a ? stepDetail(a) : []);
    const db = new Map(b ? stepDetail(b) : []);
    const labels = [...da.keys()];
    for (const k of db.keys()) if (!labels.includes(k)) labels.push(k);
    for (const label of labels) rows.push([`  ${label}`, da.get(label) ?? '-', db.get(label) ?? '-']);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length), 4);
  const w1 = Math.max(...rows.map((r) => r[1].length), left.label.length);
  const line = (r: [string, string, string]): string =>
    `  ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}${r[1] === r[2] ? '' : '   *'}`.trimEnd();
  return [`  ${''.padEnd(w0)}  ${left.label.padEnd(w1)}  ${right.label}`, ...rows.map(line)];
}

/** One journal record as `cairn inspect user` prints it. */
export function journalLine(r: JournalRecord): string {
  const details = [
    r.stepId && `step=${r.stepId}`,
    r.branchId && `branch=${r.branchId}`,
    r.reason && `reason=${r.reason}`,
    typeof r.detail?.['destination'] === 'string' && `destination=${String(r.detail['destination'])}`,
  ]
    .filter(Boolean)
    .join(' ');
  const key = r.instanceKey === undefined || r.instanceKey === '_' ? '' : `  key=${r.instanceKey}`;
  return `${iso(r.at)}  ${r.journeyId} v${r.version}  ${r.type}${details ? `  ${details}` : ''}${key}`;
}

/** A progress bar with the rate and time left, redrawn in place on a terminal. */
export function progressLine(read: number, total: number, startedAt: number, now: number): string {
  const share = total > 0 ? Math.min(read / total, 1) : 0;
  const width = 30;
  const filled = Math.round(share * width);
  const seconds = Math.max((now - startedAt) / 1000, 0.001);
  const rate = read / seconds;
  const left = rate > 0 && total > read ? (total - read) / rate : 0;
  const eta = left >= 60 ? `${Math.floor(left / 60)}m${Math.round(left % 60)}s` : `${Math.round(left)}s`;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
    `${read}/${total} events  ${Math.round(rate)}/s  ETA ${eta}`
  );
}
