// JourneyStats -> text for a terminal: the steps as a tree (a hold or a split opens one branch per
// way out, a send or a delay goes on at the same depth), the counts and conversion percentages
// beside each step; and two versions (the active one and its shadow) side by side. Pure.
import { compile, EXIT_SEND_STEP_ID, type JourneyDocument, type Step } from '../journey/index.js';
import type { JourneyStats, StepStats } from './types.js';

/** `n` as a share of `of`, one decimal (`-` when `of` is 0). */
export function percent(n: number, of: number): string {
  return of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '-';
}

const iso = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function windowText(stats: Pick<JourneyStats, 'window'>): string {
  const { since, until } = stats.window;
  return since === null ? `all time, until ${iso(until)}` : `${iso(since)} to ${iso(until)}`;
}

const byReason = (m: Record<string, number>): string => {
  const parts = Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
};
const total = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);

function summaryLines(s: JourneyStats): string[] {
  return [
    `${s.journeyId} v${s.version ?? 'all'}${s.shadow ? ' (shadow)' : ''} · ${windowText(s)}`,
    [
      `entered ${s.entered}`,
      `refused ${total(s.refused)}${byReason(s.refused)}`,
      `active ${s.active}`,
      `completed ${s.completed} (${percent(s.completed, s.entered)})`,
      `exited ${total(s.exited)}${byReason(s.exited)}`,
    ].join(' · '),
  ];
}

/** What one step's line says after its id. */
function stepText(s: JourneyStats, step: StepStats): string {
  const parts = [`${step.entered} entered (${percent(step.entered, s.entered)})`];
  if (step.type === 'hold_until' || step.type === 'delay') parts.push(`${step.current} waiting now`);
  const verb = s.shadow ? 'would send' : 'sent';
  for (const [dest, n] of Object.entries(step.sends ?? {})) {
    parts.push(`${dest}: ${n.sent} ${verb}${n.failed > 0 ? `, ${n.failed} failed` : ''}`);
  }
  const label = step.stepId === EXIT_SEND_STEP_ID ? 'exit send' : step.type;
  return `${step.stepId}  ${label}  ${parts.join(' · ')}`;
}

interface Way {
  label: string;
  taken: number;
  next: string | null | undefined;
  restart?: boolean;
}

/** The ways out of a branching step, with how often each was taken. */
function waysOf(step: Step, counts: StepStats | undefined): Way[] | undefined {
  const taken = (id: string): number => counts?.branches?.[id] ?? 0;
  switch (step.type) {
    case 'hold_until':
      return [
        ...step.branches.map((b) => ({
          label: b.id,
          taken: taken(b.id),
          next: b.next ?? null,
          ...(b.restart && { restart: true }),
        })),
        { label: 'timeout', taken: taken('timeout'), next: step.timeout.next ?? null },
      ];
    case 'data_split':
      return [
        ...step.branches.map((b) => ({ label: b.id, taken: taken(b.id), next: b.next ?? null })),
        { label: 'else', taken: taken('else'), next: step.else ?? null },
      ];
    case 'random_split':
      return step.branches.map((b) => ({ label: b.id, taken: taken(b.id), next: b.next ?? null }));
    default:
      return undefined;
  }
}

/**
 * The stats as a tree of the version's steps (`doc`: its document), or as a list in the stats'
 * order without one. Each line: step id, type, times entered and its share of the entries,
 * instances waiting now (holds, delays), sends per destination; each branch: times taken and
 * its share of the step's entries.
 */
export function renderStatsTree(stats: JourneyStats, doc?: JourneyDocument): string {
  const lines = [...summaryLines(stats), ''];
  const byId = new Map(stats.steps.map((s) => [s.stepId, s]));
  const drawn = new Set<string>();
  if (doc) {
    const compiled = compile(doc, { version: stats.version ?? 1 });
    const walk = (from: string | null | undefined, indent: string): void => {
      let id = from;
      while (id !== null && id !== undefined) {
        if (drawn.has(id)) {
          lines.push(`${indent}→ ${id} (above)`);
          return;
        }
        drawn.add(id);
        const step = compiled.steps[id];
        const counts = byId.get(id);
        if (!step || !counts) return;
        lines.push(indent + stepText(stats, counts));
        const ways = waysOf(step, counts);
        if (ways) {
          ways.forEach((way, i) => {
            const last = i === ways.length - 1;
            const restart = way.restart ? ' · back to the start of the hold' : '';
            lines.push(
              `${indent}${last ? '└─' : '├─'} ${way.label}  ${way.taken} (${percent(way.taken, counts.entered)})${restart}`,
            );
            if (!way.restart) walk(way.next, indent + (last ? '   ' : '│  '));
          });
          return;
        }
        if (step.type === 'exit') return;
        id = 'next' in step ? step.next : undefined;
      }
    };
    walk(compiled.start, '');
  }
  const rest = stats.steps.filter((s) => !drawn.has(s.stepId));
  if (doc && rest.length > 0) lines.push('');
  for (const step of rest) {
    lines.push(stepText(stats, step));
    for (const [branch, n] of Object.entries(step.branches ?? {})) {
      lines.push(`  ${branch}  ${n} (${percent(n, step.entered)})`);
    }
  }
  return lines.join('\n');
}

export interface ComparisonOptions {
  /** The columns' headings (default: `active v<n>` and `shadow v<n>`). */
  labels?: [string, string];
  /** Mark with `*` the rows whose two values differ. */
  markDiffers?: boolean;
}

/**
 * Two versions' stats side by side, one row per count: the active version and its shadow (or a
 * draft replayed beside the active version).
 */
export function renderStatsComparison(
  left: JourneyStats,
  right: JourneyStats,
  opts: ComparisonOptions = {},
): string {
  const name = (s: JourneyStats): string => `${s.shadow ? 'shadow' : 'active'} v${s.version ?? 'all'}`;
  const [leftName, rightName] = opts.labels ?? [name(left), name(right)];
  const rows: Array<[string, string, string]> = [['', leftName, rightName]];
  const row = (label: string, f: (s: JourneyStats) => string): void => {
    rows.push([label, f(left), f(right)]);
  };
  row('entered', (s) => String(s.entered));
  row('refused', (s) => String(total(s.refused)));
  row('active', (s) => String(s.active));
  row('completed', (s) => `${s.completed} (${percent(s.completed, s.entered)})`);
  row('exited', (s) => String(total(s.exited)));
  const ids = [...left.steps.map((s) => s.stepId)];
  for (const s of right.steps) if (!ids.includes(s.stepId)) ids.push(s.stepId);
  const find = (s: JourneyStats, id: string): StepStats | undefined => s.steps.find((x) => x.stepId === id);
  for (const id of ids) {
    const type = (find(left, id) ?? find(right, id))?.type ?? 'exit';
    row(`${id} (${id === EXIT_SEND_STEP_ID ? 'exit send' : type})`, (s) => {
      const step = find(s, id);
      if (!step) return '·';
      const waiting = type === 'hold_until' || type === 'delay' ? `, ${step.current} waiting` : '';
      return `${step.entered} (${percent(step.entered, s.entered)})${waiting}`;
    });
    const branches = new Set([
      ...Object.keys(find(left, id)?.branches ?? {}),
      ...Object.keys(find(right, id)?.branches ?? {}),
    ]);
    for (const b of branches) {
      row(`  ${b}`, (s) => {
        const step = find(s, id);
        const n = step?.branches?.[b];
        return step && n !== undefined ? `${n} (${percent(n, step.entered)})` : '·';
      });
    }
    const dests = new Set([
      ...Object.keys(find(left, id)?.sends ?? {}),
      ...Object.keys(find(right, id)?.sends ?? {}),
    ]);
    for (const d of dests) {
      row(`  → ${d}`, (s) => {
        const n = find(s, id)?.sends?.[d];
        if (!n) return '·';
        return `${n.sent} ${s.shadow ? 'would send' : 'sent'}${n.failed > 0 ? `, ${n.failed} failed` : ''}`;
      });
    }
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return [
    `${left.journeyId} · ${windowText(left)}`,
    '',
    ...rows.map(([a, b, c], i) => {
      const mark = opts.markDiffers && i > 0 && b !== c ? '   *' : '';
      return `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}${mark}`.trimEnd();
    }),
  ].join('\n');
}
