// The results of one run: <date>.json (everything measured), <date>.md (the summary table) and
// a PNG of latency against offered load (scenarios 1 and 2), in the output directory.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Machine } from './env.js';
import { renderChart, type Series } from './plot.js';
import type { ScenarioResult } from './scenario.js';
import { median } from './stats.js';
import type { StepPoint } from './stepping.js';

export interface Run {
  quick: boolean;
  machine: Machine;
  startedAt: Date;
  results: ScenarioResult[];
}

/** The stepping points and the latency runs of a scenario: per offered rate, the median. */
function pointsOf(r: ScenarioResult | undefined): Array<{ offered: number; p50: number; p99: number }> {
  const steps = (r?.details['points'] ?? []) as StepPoint[];
  const runs = (r?.details['latency'] as { runs?: StepPoint[] } | undefined)?.runs ?? [];
  const byRate = new Map<number, StepPoint[]>();
  for (const p of [...steps, ...runs]) byRate.set(p.offered, [...(byRate.get(p.offered) ?? []), p]);
  return [...byRate.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([offered, ps]) => ({
      offered,
      p50: median(ps.map((p) => p.p50)),
      p99: median(ps.map((p) => p.p99)),
    }));
}

export function latencyChart(results: ScenarioResult[]): Buffer {
  const base = pointsOf(results.find((r) => r.name === 'baseline'));
  const fwd = pointsOf(results.find((r) => r.name === 'forwarding'));
  const series: Series[] = [
    { label: 'forwarding p99', color: [200, 40, 40], points: fwd.map((p) => [p.offered, p.p99]) },
    {
      label: 'forwarding p50',
      color: [200, 40, 40],
      dashed: true,
      points: fwd.map((p) => [p.offered, p.p50]),
    },
    { label: 'baseline p99', color: [40, 90, 200], points: base.map((p) => [p.offered, p.p99]) },
    {
      label: 'baseline p50',
      color: [40, 90, 200],
      dashed: true,
      points: base.map((p) => [p.offered, p.p50]),
    },
  ];
  return renderChart({
    title: 'Event to sink latency vs offered load',
    xLabel: 'offered events/s (log)',
    yLabel: 'ms (log)',
    series,
  });
}

export function markdown(run: Run): string {
  const m = run.machine;
  const lines = [
    `# Cairn bench, ${run.startedAt.toISOString()} (${run.quick ? 'quick' : 'full'})`,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), node ${m.node}, nats-server ${m.natsServer}, file storage, R1. Commit ${m.commit}.`,
    '',
    '| scenario | figure | unit | ratio to baseline | more | target | s | load avg |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of run.results) {
    const target = r.target ? `${r.target.met ? 'met' : 'missed'}: ${r.target.text}` : '';
    const figure = r.skipped !== undefined ? `skipped (${r.skipped})` : String(r.figure);
    lines.push(
      `| ${r.name} | ${figure} | ${r.unit} | ${r.ratio ?? ''} | ${r.extra ?? ''} | ${target} | ${String((r.details['seconds'] as number | undefined) ?? '')} | ${String((r.details['loadAvg'] as number[] | undefined)?.join(' -> ') ?? '')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Redraws the plot of a results JSON (after a change to the chart). */
export async function replot(jsonFile: string, pngFile: string): Promise<void> {
  const run = JSON.parse(await readFile(jsonFile, 'utf8')) as { results: ScenarioResult[] };
  await writeFile(pngFile, latencyChart(run.results));
}

export async function writeResults(dir: string, run: Run): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stem = `${run.startedAt.toISOString().slice(0, 10)}${run.quick ? '-quick' : ''}`;
  const json = join(dir, `${stem}.json`);
  const md = join(dir, `${stem}.md`);
  const png = join(dir, run.quick ? 'latency-quick.png' : 'latency.png');
  const body = { ...run, startedAt: run.startedAt.toISOString() };
  await writeFile(
    json,
    `${JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  await writeFile(md, markdown(run));
  await writeFile(png, latencyChart(run.results));
  return [json, md, png];
}
