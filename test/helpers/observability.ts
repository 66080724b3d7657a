// The Prometheus rules and the Grafana dashboard under deploy/, read as data: their queries, the
// metric names those queries name, and the metric names Cairn's code defines.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RULES_FILE = join(ROOT, 'deploy/prometheus/cairn-rules.yaml');
export const RULE_TESTS_DIR = join(ROOT, 'deploy/prometheus/tests');
export const DASHBOARD_FILE = join(ROOT, 'deploy/grafana/dashboards/cairn.json');

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export async function loadRules(): Promise<Rule[]> {
  const doc = parse(await readFile(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      min?: number;
      max?: number;
      thresholds?: { steps: Array<{ color: string; value: number | null }> };
      custom?: { thresholdsStyle?: { mode: string } };
    };
  };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating?: { list: Array<{ name: string; type: string; query?: string }> };
}

export async function loadDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** A dashboard query as Prometheus takes it: Grafana's interval variables replaced by `window`. */
export function promqlOf(expr: string, window: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, window);
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric (and recorded series) names a PromQL expression selects: identifiers that are not
 * functions, keywords, label names or label values. Enough for the queries of this repository.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range and subquery windows
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

/** The series a metric name stands for in a scrape: a histogram's `_bucket`, `_sum`, `_count`. */
export function baseMetricName(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

/**
 * Metric names Cairn's code defines: every `'cairn_…'` string literal under libs/ and services/
 * (a superset: bucket names such as `cairn_state` match too, which no query names).
 */
export async function definedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const dir of ['libs', 'services']) {
    for (const file of await tsFiles(join(ROOT, dir))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/['"`](cairn_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  }
  return names;
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tsFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}
