/* eslint-disable @typescript-eslint/require-await */
// deploy/Dockerfile, checked statically (no container runtime here: the image is not built by
// the tests). Each claim the file and docs/operations.md make is checked against the file and
// the repository: stages, production dependencies only, non-root, read-only root filesystem,
// signals, entry points, the build context.
import { existsSync, readFileSync } from 'node:fs';

import t from 'tap';

const ROOT = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

interface Stage {
  from: string;
  name: string;
  lines: string[];
}

/** The Dockerfile's instructions (continuations joined, comments dropped), by stage. */
function stages(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1]!, name: from[2] ?? '', lines: [] });
    else if (out.length === 0) {
      const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
      if (arg) args[arg[1]!] = arg[2]!;
    } else out.at(-1)!.lines.push(line);
  }
  return { args, stages: out };
}

const dockerfile = stages(read('deploy/Dockerfile'));
const build = dockerfile.stages.find((s) => s.name === 'build');
const runtime = dockerfile.stages.at(-1)!;
const runs = (s: Stage | undefined): string[] => (s?.lines ?? []).filter((l) => l.startsWith('RUN '));

void t.test('two stages: build with the compiler, runtime without it', async (t) => {
  t.ok(build, 'a build stage');
  t.equal(runtime.name, 'runtime', 'the last stage is the runtime');
  t.ok(
    runs(build).some((l) => /npm ci\b/.test(l) && !/--omit=dev/.test(l)),
    'build installs dev dependencies',
  );
  t.ok(
    runs(build).some((l) => /npm run build/.test(l)),
    'build compiles (tsc)',
  );
  const install = runs(runtime).find((l) => /npm ci\b/.test(l)) ?? '';
  t.match(install, /--omit=dev/, 'runtime installs production dependencies only');
  // package.json's `prepare` runs tsc, which --omit=dev does not install.
  t.match(install, /--ignore-scripts/, 'runtime skips the prepare script');
  t.ok(
    (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['prepare'],
    'package.json has a prepare script to skip',
  );
  t.notOk(
    runs(runtime).some((l) => /npm run build|tsc/.test(l)),
    'nothing is compiled in the runtime stage',
  );
  t.ok(
    runtime.lines.some((l) => /^COPY --from=build \/app\/dist \.\/dist$/.test(l)),
    'runtime takes the compiled dist/ from build',
  );
});

void t.test('the Node.js line is a supported LTS that every production dependency accepts', async (t) => {
  const major = Number(dockerfile.args['NODE_VERSION']);
  t.ok(major >= 22 && major % 2 === 0, `Node ${major} is an even (LTS) line, 22 or later`);
  for (const s of dockerfile.stages) t.match(s.from, /^node:\$\{NODE_VERSION\}-bookworm-slim$/, s.name);
  // The highest minimum major any production dependency declares (package-lock engines).
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { dev?: boolean; engines?: { node?: string } }>;
  };
  let needed = 0;
  for (const [name, pkg] of Object.entries(lock.packages)) {
    if (!name || pkg.dev || !pkg.engines?.node) continue;
    const min = /(\d+)/.exec(pkg.engines.node);
    if (min) needed = Math.max(needed, Number(min[1]));
  }
  t.ok(needed >= 20, `production dependencies need Node >= ${needed}`);
  t.ok(major >= needed, `Node ${major} >= ${needed}`);
});

void t.test('non-root, read-only root filesystem, signals to node', async (t) => {
  const user = runtime.lines.filter((l) => l.startsWith('USER ')).at(-1) ?? '';
  t.match(user, /^USER \d+:\d+$/, 'a numeric user (runAsNonRoot can verify it)');
  t.notMatch(user, /^USER (0|root)\b/, 'not root');
  const uid = Number(/^USER (\d+)/.exec(user)?.[1]);
  t.equal(uid, 1000, 'the uid the manifests run as (runAsUser: 1000)');
  t.match(read('k8s/base/ingest.yaml'), /runAsUser: 1000/);
  // Nothing writes outside /tmp: the caches and home of Node and npm point there.
  t.ok(
    runtime.lines.some((l) => /^ENV .*HOME=\/tmp/.test(l) && /TMPDIR=\/tmp/.test(l)),
    'HOME and TMPDIR = /tmp',
  );
  // Exec form: node is PID 1 and receives SIGTERM itself (a shell form would not pass it on).
  const entry = runtime.lines.find((l) => l.startsWith('ENTRYPOINT')) ?? '';
  t.equal(entry, 'ENTRYPOINT ["node"]', 'exec-form entrypoint: node receives the signals');
  const lifecycle = read('libs/telemetry/lifecycle.ts');
  t.match(lifecycle, /process\.on\('SIGTERM'/, 'the services handle SIGTERM (drain, then exit)');
});

void t.test('the entry points the manifests name are in the image', async (t) => {
  const copied = runtime.lines.filter((l) => l.startsWith('COPY')).join('\n');
  t.match(copied, /COPY bin \.\/bin/, 'bin/cairn.js (the CLI)');
  t.match(
    read('bin/cairn.js'),
    /\.\.\/dist\/services\/cli\/main\.js/,
    'bin/cairn.js runs dist/services/cli/main.js',
  );
  const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
  for (const service of ['ingest', 'matcher', 'timer', 'sender', 'admin', 'cli']) {
    t.ok(existsSync(new URL(`services/${service}/main.ts`, ROOT)), `services/${service}/main.ts`);
    t.ok(build.include.includes('services'), `tsc compiles it to dist/services/${service}/main.js`);
    // After `npm run build` (make test builds first), the compiled file is there too.
    if (existsSync(new URL('dist/', ROOT)))
      t.ok(existsSync(new URL(`dist/services/${service}/main.js`, ROOT)), `dist/services/${service}/main.js`);
  }
});

void t.test('the build context holds what the COPY instructions take, and no more', async (t) => {
  const ignore = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  t.equal(ignore[0], '**', 'everything is excluded by default');
  const included = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
  const sources = dockerfile.stages
    .flatMap((s) => s.lines)
    .filter((l) => l.startsWith('COPY ') && !l.startsWith('COPY --from'))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  t.ok(sources.length > 0);
  for (const src of sources) {
    t.ok(included.includes(src), `${src} is in the build context`);
    t.ok(existsSync(new URL(src, ROOT)), `${src} exists`);
  }
  t.ok(ignore.includes('**/*.test.ts'), 'tests stay out');
});
