// `make bench` / `make bench-quick`: the nine scenarios (six of issue 6, ingest shards, the cost of a shadow
// version, and replicas), one line each on stdout,
// results to bench/results/<date>.json and .md, and a plot of latency against offered load.
//   node dist/bench/main.js [--quick] [--only a,b] [--out dir] [--profile dir]
//   node dist/bench/main.js --plot <results.json> [--out <png>]   (redraw the plot)
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { machine, type Machine } from './env.js';
import { replot, writeResults } from './report.js';
import type { BenchOptions, Scenario, ScenarioResult } from './scenario.js';
import { abandonment } from './scenarios/abandonment.js';
import { baseline, forwarding } from './scenarios/forwarding.js';
import { ingestHttp } from './scenarios/ingest-http.js';
import { ingestShards } from './scenarios/ingest-shards.js';
import { shadowCost } from './scenarios/shadow.js';
import { replicas } from './scenarios/replicas.js';
import { stateAtScale } from './scenarios/state.js';
import { timersAtScale } from './scenarios/timers.js';

export const SCENARIOS: ReadonlyArray<[string, Scenario]> = [
  ['baseline', baseline],
  ['forwarding', forwarding],
  ['abandonment', abandonment],
  ['timers', timersAtScale],
  ['state', stateAtScale],
  ['ingest-http', ingestHttp],
  ['ingest-shards', ingestShards],
  ['shadow', shadowCost],
  ['replicas', replicas],
];

export function formatLine(r: ScenarioResult, m: Machine): string {
  const where = `${m.cores} cores, nats-server ${m.natsServer}`;
  if (r.skipped !== undefined) return `${r.name}: skipped (${r.skipped}) | ${where}`;
  if (r.unit === 'error') return `${r.name}: failed (${String(r.details['error'])}) | ${where}`;
  const ratio = r.ratio !== undefined ? ` (${r.ratio}x baseline)` : '';
  const extra = r.extra ? ` | ${r.extra}` : '';
  return `${r.name}: ${r.figure} ${r.unit}${ratio}${extra} | ${where}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
      plot: { type: 'string' },
    },
  });
  if (values.plot !== undefined) {
    // Redraw the plot of an earlier run: --plot <results.json> [--out <png>].
    await replot(values.plot, values.out ?? values.plot.replace(/\.json$/, '-latency.png'));
    return;
  }
  const quick = values.quick ?? false;
  const only = values.only?.split(',');
  const outDir = resolve(values.out ?? 'bench/results');
  const cpuProfDir = values.profile ? resolve(values.profile) : undefined;
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const m = machine();
  const started = Date.now();
  const opts: BenchOptions = {
    quick,
    machine: m,
    cpuProfDir,
    note: (text) => process.stderr.write(`${text}\n`),
  };
  opts.note(
    `cairn bench (${quick ? 'quick' : 'full'}): ${m.cores} cores, ${m.cpu}, node ${m.node}, nats-server ${m.natsServer}`,
  );
  const results: ScenarioResult[] = [];
  let base: ScenarioResult | undefined;
  for (const [name, run] of SCENARIOS) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    const loadBefore = loadavg()[0]!;
    let r: ScenarioResult;
    try {
      r = await run(opts, base);
    } catch (err) {
      opts.note(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      r = { name, figure: NaN, unit: 'error', details: { error: String(err) } };
      process.exitCode = 1;
    }
    r.details['seconds'] = Math.round((Date.now() - t0) / 100) / 10;
    // The machine is shared: the 1-minute load average says how much else was running.
    r.details['loadAvg'] = [loadBefore, loadavg()[0]!].map((l) => Math.round(l * 10) / 10);
    if (name === 'baseline') base = r;
    results.push(r);
    process.stdout.write(`${formatLine(r, m)}\n`);
  }
  const files = await writeResults(outDir, { quick, machine: m, startedAt: new Date(started), results });
  opts.note(`done in ${Math.round((Date.now() - started) / 1000)} s; wrote ${files.join(', ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
