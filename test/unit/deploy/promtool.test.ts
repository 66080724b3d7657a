// deploy/prometheus: `promtool check rules` accepts the rules, `promtool test rules` passes every
// unit test in deploy/prometheus/tests/, every alert has a case where it fires and one where it
// stays quiet, and the tests can fail (a rule that never fires, or always fires, is caught).
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';
import { parse, stringify } from 'yaml';

import { loadRules, ROOT, RULE_TESTS_DIR, RULES_FILE } from '../../helpers/observability.js';
import { promtool } from '../../helpers/prometheus.js';

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}
interface RuleTestFile {
  tests: Array<{ name: string; alert_rule_test?: AlertTest[] }>;
}

async function testFiles(dir = RULE_TESTS_DIR): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
}

void t.test('promtool check rules accepts deploy/prometheus/cairn-rules.yaml', (t) => {
  const r = promtool(['check', 'rules', RULES_FILE]);
  t.equal(r.code, 0, r.output);
  t.match(r.output, /SUCCESS: \d+ rules found/);
  t.end();
});

void t.test('promtool test rules passes deploy/prometheus/tests/*.yaml', async (t) => {
  const files = await testFiles();
  t.ok(files.length > 0, 'there are rule tests');
  const r = promtool(['test', 'rules', ...files], RULE_TESTS_DIR);
  t.equal(r.code, 0, r.output);
});

void t.test('every alert has a case where it fires and one where it stays quiet', async (t) => {
  const alerts = (await loadRules()).flatMap((r) => (r.alert ? [r.alert] : []));
  t.ok(alerts.length >= 9, `${alerts.length} alerts`);
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const file of await testFiles()) {
    const doc = parse(await readFile(file, 'utf8')) as RuleTestFile;
    for (const test of doc.tests) {
      for (const a of test.alert_rule_test ?? []) {
        ((a.exp_alerts ?? []).length > 0 ? fires : quiet).add(a.alertname);
      }
    }
  }
  for (const alert of alerts) {
    t.ok(fires.has(alert), `${alert} is tested firing`);
    t.ok(quiet.has(alert), `${alert} is tested quiet`);
  }
});

/** The rules with every alert's expression replaced, in a temp copy next to copies of the tests. */
async function mutatedRun(expr: string): Promise<{ code: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-rules-'));
  try {
    const doc = parse(await readFile(RULES_FILE, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
    };
    for (const g of doc.groups) for (const r of g.rules) if (r.alert) r.expr = expr;
    await writeFile(join(dir, 'cairn-rules.yaml'), stringify(doc));
    await mkdir(join(dir, 'tests'));
    const files = await testFiles();
    for (const f of files) await copyFile(f, join(dir, 'tests', f.slice(RULE_TESTS_DIR.length + 1)));
    return promtool(['test', 'rules', ...(await testFiles(join(dir, 'tests')))], join(dir, 'tests'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void t.test('the rule tests fail when the alerts never fire, or always fire', async (t) => {
  const never = await mutatedRun('vector(1) < 0');
  t.not(never.code, 0, 'alerts that never fire fail the tests');
  const always = await mutatedRun('vector(1)');
  t.not(always.code, 0, 'alerts that always fire fail the tests');
});

/** GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

void t.test('every alert has a severity, a summary, a description and a runbook entry', async (t) => {
  // The runbook is docs/operations.md's "Alerts" section.
  const anchors = new Set<string>();
  const text = await readFile(join(ROOT, 'docs/operations.md'), 'utf8');
  for (const m of text.matchAll(/^#{2,4} (.+)$/gm)) anchors.add(anchorOf(m[1]!));
  for (const rule of await loadRules()) {
    if (!rule.alert) continue;
    t.ok(
      ['page', 'ticket'].includes(rule.labels?.['severity'] ?? ''),
      `${rule.alert}: severity page or ticket`,
    );
    t.ok(rule.annotations?.['summary'], `${rule.alert}: summary`);
    t.ok(rule.annotations?.['description'], `${rule.alert}: description`);
    const anchor = `alert-${rule.alert.toLowerCase()}`;
    t.equal(rule.annotations?.['runbook_url'], `docs/operations.md#${anchor}`, `${rule.alert}: runbook_url`);
    t.ok(anchors.has(anchor), `${rule.alert}: a runbook entry "### Alert: ${rule.alert}"`);
  }
});
