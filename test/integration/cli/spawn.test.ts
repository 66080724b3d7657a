// The built binary: exit code and the one-line message (needs `npm run build`, which `make unit` runs).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { REPO } from './helpers.js';

function cairn(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/cairn.js'), ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

void t.test('the CLI is built', (t) => {
  t.ok(existsSync(join(REPO, 'dist/services/cli/main.js')), 'run `npm run build` first');
  t.end();
});

void t.test(
  'cairn journey validate on a bad file exits 1 with each issue and one summary line',
  async (t) => {
    const dir = t.testdir({
      'bad.yaml':
        'id: bad\nname: Bad\ntrigger: { event: x }\nentry: { mode: once }\nsteps:\n  - { id: a, type: sned }\n',
    });
    const { code, stdout, stderr } = await cairn(['journey', 'validate', join(dir, 'bad.yaml')]);
    t.equal(code, 1);
    t.match(
      stdout,
      /bad\.yaml:6:20: error CAIRN_E_JOURNEY_UNKNOWN_STEP_TYPE at steps\[0\]\.type: "sned" is not a step type \(hint: did you mean 'send'\?\)/,
    );
    t.match(
      stderr,
      /^cairn: .*bad\.yaml has 1 error\(s\)\. Fix them and run `cairn journey validate .*` again\n$/,
    );
  },
);

void t.test('cairn with an unknown command exits 1', async (t) => {
  const { code, stderr } = await cairn(['frobnicate']);
  t.equal(code, 1);
  t.equal(stderr, 'cairn: unknown command `frobnicate`. Run `cairn --help` for the list\n');
});
