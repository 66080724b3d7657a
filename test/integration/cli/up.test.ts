// `cairn up`: every service in one lifecycle on a real nats-server; a local nats-server when
// none answers; SIGTERM drains and exits 0.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { BusCodes } from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { startLifecycle } from '../../../libs/telemetry/index.js';
import { freePort, startLocalNats } from '../../../services/cli/local-nats.js';
import { upConnection } from '../../../services/cli/up-connection.js';
import { startAllServices } from '../../../services/cli/up.js';
import { silentLogger, waitUntil } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo, REPO } from './helpers.js';

void t.test('all four services start, report ready, and stop cleanly', async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({
    NATS_URL: nats.url,
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
    CAIRN_SHUTDOWN_GRACE: '2s',
  });
  const io = captureIo();
  const connection = upConnection(io, true);
  const life = await startLifecycle({
    name: 'up',
    config,
    logger: silentLogger,
    start: startAllServices,
    connect: (c, l) => connection.connect(c, l),
    afterStop: () => connection.afterStop(),
  });
  t.teardown(() => life.stop());
  await waitUntil(() => life.isReady(), 10_000, 'every service ready');
  const res = await fetch(`http://127.0.0.1:${life.metricsPort}/readyz`);
  t.equal(res.status, 200);
  t.match(await res.text(), /"status":"ready"/);
  t.equal(connection.url(), nats.url);
  t.same(io.stderr, [], 'no local server was started');
  await life.stop();
  t.equal(life.state, 'stopped');
  t.ok(life.bus.nc.isClosed());
});

void t.test('no NATS at the default URL: a local nats-server is started, and stopped after', async (t) => {
  const cwd = t.testdir();
  const port = await freePort();
  const io = { ...captureIo(), cwd };
  const connection = upConnection(io, false);
  const config = loadConfig({ NATS_URL: `nats://127.0.0.1:${port}` });
  const bus = await connection.connect(config, silentLogger);
  t.match(
    io.stderr[0],
    new RegExp(
      `^cairn up: no NATS at nats://127\\.0\\.0\\.1:${port}; started a local nats-server on nats://127\\.0\\.0\\.1:\\d+ \\(store \\.cairn/nats\\)$`,
    ),
  );
  t.not(connection.url(), config.natsUrl);
  t.ok(existsSync(join(cwd, '.cairn/nats')), 'the store is in .cairn/nats');
  await bus.jsm.getAccountInfo();
  await bus.close();
  await connection.afterStop();
});

void t.test('nats-server missing from the PATH: one line on what to install', async (t) => {
  await t.rejects(startLocalNats(t.testdir(), 'nats-server-not-installed'), {
    name: 'CliError',
    message:
      /^cairn: nats-server-not-installed is not on PATH, and no NATS answers\. Install nats-server 2\.10\+ .*or set NATS_URL to a running one$/,
  });
});

void t.test('an explicit URL that does not answer fails instead of starting a server', async (t) => {
  const port = await freePort();
  const io = captureIo();
  const connection = upConnection(io, true);
  await t.rejects(connection.connect(loadConfig({ NATS_URL: `nats://127.0.0.1:${port}` }), silentLogger), {
    code: BusCodes.UNREACHABLE,
  });
  t.same(io.stderr, []);
});

void t.test('the binary: ready line, then SIGTERM drains and exits 0', async (t) => {
  t.ok(existsSync(join(REPO, 'dist/services/cli/main.js')), 'run `npm run build` first');
  const nats = await withNats(t);
  const child = spawn(process.execPath, [join(REPO, 'bin/cairn.js'), 'up', '--nats-url', nats.url], {
    cwd: REPO,
    env: {
      ...process.env,
      CAIRN_METRICS_PORT: '0',
      CAIRN_HTTP_PORT: '0',
      CAIRN_ADMIN_PORT: '0',
      CAIRN_LOG_LEVEL: 'info',
      CAIRN_SHUTDOWN_GRACE: '2s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitUntil(() => /cairn up: ready/.test(stderr) || child.exitCode !== null, 20_000, 'cairn up ready');
  t.match(
    stderr,
    new RegExp(`cairn up: ready \\(NATS ${nats.url.replace(/[.]/g, '\\.')}, HTTP metrics on :\\d+\\)`),
  );
  // The admin API on its own port, with a one-off write token printed because none was set.
  const admin = /admin API and console on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr)?.[1];
  const token = /one-off write token for this run: ([A-Za-z0-9_-]{32})/.exec(stderr)?.[1];
  t.ok(admin && token, 'the admin URL and a token are printed');
  const health = await fetch(`${admin}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(health.status, 200);
  t.equal((await fetch(`${admin}/api/v1/health`)).status, 401, 'not without it');
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  const states = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; state?: string })
    .filter((r) => r.msg === 'lifecycle')
    .map((r) => r.state);
  t.same(states, ['starting', 'ready', 'draining', 'stopped']);
});
