#!/usr/bin/env node
// Writes k8s/base/prometheus-rule.yaml (a prometheus-operator PrometheusRule) from the rule
// groups of deploy/prometheus/cairn-rules.yaml, so that Kubernetes runs the rules promtool
// tests. test/unit/deploy/manifests.test.ts fails when the two differ: run this after changing
// the rules.   node scripts/sync-prometheus-rule.mjs
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import prettier from 'prettier';
import { parse, stringify } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}deploy/prometheus/cairn-rules.yaml`;
const target = `${root}k8s/base/prometheus-rule.yaml`;

const groups = existsSync(source) ? (parse(readFileSync(source, 'utf8'))?.groups ?? []) : [];
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'cairn' },
  spec: { groups },
};
const header =
  '# Generated from deploy/prometheus/cairn-rules.yaml by scripts/sync-prometheus-rule.mjs: do not\n' +
  '# edit; change the rules there and run the script (a test keeps the two equal).\n';
const options = (await prettier.resolveConfig(target)) ?? {};
const text = await prettier.format(header + stringify(rule, { lineWidth: 0 }), {
  ...options,
  parser: 'yaml',
});
writeFileSync(target, text);
process.stdout.write(`${target}: ${groups.length} rule group(s)\n`);
