// `make bench-quick` must keep working (issue 6): the built harness runs every scenario at its
// quick scale against its own nats-server, prints one line per scenario with a finite figure,
// and writes its results. No figure is judged here: a shared 2-core machine is too noisy.
// Not a `*.test.ts`: nine scenarios take 2-4 min, too long for `make test`; `make test-bench`
// runs this file on its own with a longer limit, and CI runs it (.ci/run).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import t from 'tap';

const MAIN = fileURLToPath(new URL('../../dist/bench/main.js', import.meta.url));
const SCENARIOS = [
  'baseline',
  'forwarding',
  'abandonment',
  'timers',
  'state',
  'ingest-http',
  'ingest-shards',
  'shadow',
  'replicas',
];

void t.test('bench --quick runs all nine scenarios and prints a finite figure for each', async (t) => {
  t.setTimeout(420_000);
  t.ok(existsSync(MAIN), 'the bench is built (npm run build)');
  const out = await mkdtemp(join(tmpdir(), 'cairn-bench-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve) => {
      const child = execFile(
        'node',
        [MAIN, '--quick', '--out', out],
        { timeout: 410_000 },
        (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? (child.exitCode ?? -1) : 0 }),
      );
    },
  );
  t.equal(code, 0, 'exits 0', { stderr: stderr.slice(-3_000) });
  const lines = stdout.trim().split('\n');
  for (const name of SCENARIOS) {
    const line = lines.find((l) => l.startsWith(`${name}: `));
    if (!line) {
      t.fail(`${name}: no line printed`);
      continue;
    }
    t.match(line, /\| \d+ cores, nats-server \S+$/, `${name}: the line names the machine`);
    if (name === 'ingest-http' && line.startsWith('ingest-http: skipped (HTTP API not present)')) {
      t.pass('ingest-http: skipped, the HTTP API is not in this build');
      continue;
    }
    const figure = Number(/^\S+: (-?[\d.]+) /.exec(line)?.[1]);
    t.ok(Number.isFinite(figure), `${name}: finite figure in "${line}"`);
  }
  const files = await readdir(out);
  const json = files.find((f) => f.endsWith('-quick.json'));
  t.ok(json, 'results JSON written');
  t.ok(
    files.some((f) => f.endsWith('-quick.md')),
    'markdown summary written',
  );
  const run = JSON.parse(await readFile(join(out, json ?? 'missing'), 'utf8')) as { results: unknown[] };
  t.equal(run.results.length, SCENARIOS.length, 'every scenario in the JSON');
  const png = await readFile(join(out, 'latency-quick.png'));
  t.same([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG plot of latency against offered load');
});
