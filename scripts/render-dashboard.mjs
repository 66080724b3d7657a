#!/usr/bin/env node
// Draws deploy/grafana/dashboards/cairn.json from a Prometheus' data into a PNG, for the docs
// (Grafana itself is not installable here). Each panel's queries run as range queries over
// [--start, --end]; the panels are laid out on Grafana's 24-column grid and drawn as an SVG, which
// headless chromium turns into the PNG. Time series, stat and row panels are supported.
//
//   node scripts/render-dashboard.mjs --prometheus http://127.0.0.1:9090 --start <unix s> \
//     --end <unix s> [--rate-window 5s] [--dashboard deploy/grafana/dashboards/cairn.json] \
//     --out docs/operations-dashboard.png
//
// docs/operations-dashboard.png comes from the end-to-end test's run:
//   CAIRN_DASHBOARD_PNG=$PWD/docs/operations-dashboard.png npx tap --disable-coverage test/e2e/prometheus.test.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    dashboard: { type: 'string', default: 'deploy/grafana/dashboards/cairn.json' },
    start: { type: 'string' },
    end: { type: 'string' },
    'rate-window': { type: 'string', default: '5s' },
    out: { type: 'string' },
    svg: { type: 'string' },
    width: { type: 'string', default: '1600' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? 'chromium' },
  },
});
for (const required of ['prometheus', 'start', 'end', 'out']) {
  if (!args[required]) {
    console.error(`render-dashboard: --${required} is required (see the header of this script)`);
    process.exit(2);
  }
}

const WIDTH = Number(args.width);
const COL = WIDTH / 24;
const UNIT_H = 30; // Grafana's grid row height in px
const HEADER = 56;
const PAD = 6;
const PALETTE = [
  '#73bf69',
  '#f2cc0c',
  '#8ab8ff',
  '#ff780a',
  '#f2495c',
  '#5794f2',
  '#b877d9',
  '#fade2a',
  '#ff9830',
  '#96d98d',
];
const COLORS = { green: '#73bf69', red: '#f2495c', orange: '#ff9830', yellow: '#fade2a' };
const start = Number(args.start);
const end = Number(args.end);
const step = Math.max(1, Math.round((end - start) / 240));

const dashboard = JSON.parse(readFileSync(args.dashboard, 'utf8'));

async function queryRange(expr) {
  const params = new URLSearchParams({
    query: expr.replace(/\$__rate_interval|\$__interval|\$__range/g, args['rate-window']),
    start: String(start),
    end: String(end),
    step: String(step),
  });
  const res = await fetch(`${args.prometheus}/api/v1/query_range?${params}`);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
  return body.data.result;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function legendOf(format, metric) {
  if (!format) return JSON.stringify(metric);
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => metric[k] ?? '');
}

function formatValue(v, unit) {
  if (!Number.isFinite(v)) return 'NaN';
  const num = (x, d = 2) =>
    Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(d);
  switch (unit) {
    case 's':
      if (v === 0) return '0 s';
      if (Math.abs(v) < 1) return `${num(v * 1000)} ms`;
      return `${num(v)} s`;
    case 'percentunit':
      return `${num(v * 100, 1)}%`;
    case 'ops':
      return `${num(v)}/s`;
    default:
      return num(v);
  }
}

function niceTicks(min, max, count = 4) {
  if (min === max) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const lo = Math.floor(min / stepSize) * stepSize;
  const hi = Math.ceil(max / stepSize) * stepSize;
  const ticks = [];
  for (let x = lo; x <= hi + stepSize / 2; x += stepSize) ticks.push(Number(x.toPrecision(12)));
  return ticks;
}

const clock = (t) => new Date(t * 1000).toISOString().slice(11, 19);

function frame(p, x, y, w, h) {
  return [
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x + 10}" y="${y + 20}" fill="#ccccdc" font-size="13" font-weight="600">${esc(p.title)}</text>`,
  ];
}

function timeseries(p, results, x, y, w, h) {
  const out = frame(p, x, y, w, h);
  const defaults = p.fieldConfig?.defaults ?? {};
  const unit = defaults.unit ?? 'short';
  const series = [];
  results.forEach(({ target, result }) => {
    for (const s of result) {
      const points = s.values.map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => Number.isFinite(v));
      if (points.length > 0) series.push({ name: legendOf(target.legendFormat, s.metric), points });
    }
  });
  const thresholds =
    defaults.custom?.thresholdsStyle?.mode === 'line'
      ? (defaults.thresholds?.steps ?? []).filter((s) => s.value !== null)
      : [];
  const legendCols = Math.max(1, Math.floor((w - 20) / 250));
  const legendRows = Math.min(3, Math.ceil(series.length / legendCols));
  const plot = { x: x + 58, y: y + 32, w: w - 72, h: h - 62 - legendRows * 16 };
  if (series.length === 0) {
    out.push(
      `<text x="${x + w / 2}" y="${y + h / 2}" fill="#8e8e8e" font-size="14" text-anchor="middle">No data</text>`,
    );
    return out;
  }
  const values = series.flatMap((s) => s.points.map(([, v]) => v));
  const log = defaults.custom?.scaleDistribution?.type === 'log' && values.some((v) => v > 0);
  const all = log ? values.filter((v) => v > 0) : values;
  let lo;
  let hi;
  let ticks;
  let shown = thresholds;
  if (log) {
    // Powers of ten from the smallest positive value to the largest value or threshold.
    const top = Math.max(...all, ...thresholds.map((th) => th.value));
    const bottomExp = Math.floor(Math.log10(Math.min(...all, top)));
    const topExp = Math.ceil(Math.log10(top));
    ticks = [];
    for (let e = bottomExp; e <= Math.max(topExp, bottomExp + 1); e++) ticks.push(10 ** e);
  } else {
    lo = defaults.min ?? Math.min(...all);
    hi = Math.max(...all);
    // Show a threshold line when it is within 4x of the data (a far-off line would flatten every
    // series), else name it in the corner.
    shown = thresholds.filter((th) => th.value <= Math.max(hi, 1e-9) * 4 || defaults.max !== undefined);
    for (const th of shown) hi = Math.max(hi, th.value);
    if (defaults.max !== undefined) hi = defaults.max;
    ticks = niceTicks(lo, hi);
  }
  lo = ticks[0];
  hi = ticks[ticks.length - 1];
  const f = (v) => (log ? Math.log10(Math.max(v, lo)) : v);
  const sx = (t) => plot.x + ((t - start) / (end - start)) * plot.w;
  const sy = (v) => plot.y + plot.h - ((f(v) - f(lo)) / (f(hi) - f(lo) || 1)) * plot.h;
  for (const tick of ticks) {
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#2c3235"/>`,
    );
    out.push(
      `<text x="${plot.x - 6}" y="${sy(tick) + 4}" fill="#8e8e8e" font-size="10" text-anchor="end">${esc(formatValue(tick, unit))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = start + ((end - start) * i) / 4;
    out.push(
      `<text x="${sx(t)}" y="${plot.y + plot.h + 14}" fill="#8e8e8e" font-size="10" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${clock(t)}</text>`,
    );
  }
  for (const th of shown) {
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${sy(th.value)}" y2="${sy(th.value)}" stroke="${COLORS[th.color] ?? th.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    );
  }
  const hidden = thresholds.filter((th) => !shown.includes(th));
  if (hidden.length > 0)
    out.push(
      `<text x="${x + w - 10}" y="${y + 20}" fill="${COLORS[hidden[0].color] ?? '#f2495c'}" font-size="11" text-anchor="end">threshold ${hidden.map((th) => esc(formatValue(th.value, unit))).join(', ')} (off scale)</text>`,
    );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = log ? s.points.filter(([, v]) => v > 0) : s.points;
    const d = points
      .map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  });
  const colW = (w - 20) / legendCols;
  const shownSeries = legendCols * 3;
  series.slice(0, shownSeries).forEach((s, i) => {
    const lx = x + 10 + (i % legendCols) * colW;
    const ly = y + h - 8 - (legendRows - 1 - Math.floor(i / legendCols)) * 16;
    const vs = s.points.map(([, v]) => v);
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    const stats = `mean ${formatValue(mean, unit)}, max ${formatValue(Math.max(...vs), unit)}`;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(
      `<text x="${lx + 14}" y="${ly - 3}" fill="#ccccdc" font-size="10">${esc(s.name.slice(0, 22))} <tspan fill="#8e8e8e">${esc(stats)}</tspan></text>`,
    );
  });
  if (series.length > 9)
    out.push(
      `<text x="${x + w - 10}" y="${y + h - 8}" fill="#8e8e8e" font-size="10" text-anchor="end">+${series.length - 9} more</text>`,
    );
  return out;
}

function stat(p, results, x, y, w, h) {
  const defaults = p.fieldConfig?.defaults ?? {};
  const values = results.flatMap(({ result }) =>
    result.flatMap((s) => s.values.map(([, v]) => Number(v)).filter(Number.isFinite)),
  );
  const last = values[values.length - 1];
  let color = '#2c3235';
  if (last !== undefined) {
    for (const s of defaults.thresholds?.steps ?? [])
      if (s.value === null || last >= s.value) color = COLORS[s.color] ?? s.color;
  }
  const out = [
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" fill="${color}" stroke="#2c3235"/>`,
    `<text x="${x + 10}" y="${y + 20}" fill="#111217" font-size="13" font-weight="600">${esc(p.title)}</text>`,
  ];
  const text = last === undefined ? 'No data' : formatValue(last, defaults.unit);
  out.push(
    `<text x="${x + w / 2}" y="${y + h / 2 + 16}" fill="#111217" font-size="44" font-weight="700" text-anchor="middle">${esc(text)}</text>`,
  );
  return out;
}

const parts = [];
let bottom = 0;
for (const p of dashboard.panels) {
  const { x: gx, y: gy, w: gw, h: gh } = p.gridPos;
  const x = gx * COL + PAD / 2;
  const y = HEADER + gy * UNIT_H + PAD / 2;
  const w = gw * COL - PAD;
  const h = gh * UNIT_H - PAD;
  bottom = Math.max(bottom, y + h);
  if (p.type === 'row') {
    parts.push(
      `<text x="${x + 4}" y="${y + 19}" fill="#ccccdc" font-size="15" font-weight="600">${esc(p.title)}</text>`,
    );
    continue;
  }
  const results = [];
  for (const target of p.targets ?? []) {
    const result = await queryRange(target.expr);
    if (!result.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v)))))
      console.error(`render-dashboard: no data for panel "${p.title}" ${target.refId}: ${target.expr}`);
    results.push({ target, result });
  }
  parts.push(...(p.type === 'stat' ? stat(p, results, x, y, w, h) : timeseries(p, results, x, y, w, h)));
}
const height = Math.ceil(bottom + PAD);
const title = `${dashboard.title} — from a real Prometheus scraping cairn up, ${new Date(start * 1000).toISOString().slice(0, 19)}Z to ${clock(end)}Z (rate window ${args['rate-window']}, step ${step} s)`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="#111217"/>
<text x="12" y="34" fill="#ccccdc" font-size="20" font-weight="600">${esc(title)}</text>
${parts.join('\n')}
</svg>`;

if (args.svg) writeFileSync(args.svg, svg);
const dir = mkdtempSync(join(tmpdir(), 'cairn-render-'));
try {
  const html = join(dir, 'dashboard.html');
  writeFileSync(html, `<!doctype html><html><body style="margin:0;background:#111217">${svg}</body></html>`);
  const r = spawnSync(
    args.chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--user-data-dir=${join(dir, 'profile')}`,
      `--window-size=${WIDTH},${height}`,
      `--screenshot=${resolve(args.out)}`,
      `file://${html}`,
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (r.error || r.status !== 0) {
    console.error(
      `render-dashboard: ${args.chromium} failed (${r.error?.message ?? `exit ${r.status}`}); install it with apt-get install -y chromium, or set CHROMIUM\n${r.stderr ?? ''}`,
    );
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`render-dashboard: wrote ${args.out} (${WIDTH}x${height})`);
