// The author's path as a newcomer walks it, with the built binary (bin/cairn.js, needs
// `npm run build`) on a real nats-server: every command says what happened and what to do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { withNats } from '../../helpers/nats-server.js';
import { cairnBin, FORWARD_JOURNEY as JOURNEY, startUpBin } from './bin.js';

void t.test('cairn up is a development mode: a local sink receives deliveries, and it says so', async (t) => {
  const nats = await withNats(t);
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const dir = t.testdir({
    'sink.yaml': `id: sink\ntype: webhook\nurl: ${sink.url}/hook\n`,
    'forward.yaml': JOURNEY,
  });
  const env = { NATS_URL: nats.url };
  const up = await startUpBin({ ...env, CAIRN_WRITE_KEYS: 'wk_dev' });
  t.teardown(() => up.stop());
  t.match(
    up.stderr(),
    /cairn up: development mode: webhooks may reach loopback and private addresses \(CAIRN_EGRESS_ALLOW_LOOPBACK=true\); set CAIRN_EGRESS_ALLOW_LOOPBACK=false/,
  );
  t.equal((await cairnBin(['destination', 'put', join(dir, 'sink.yaml')], env)).code, 0);
  t.equal((await cairnBin(['journey', 'publish', join(dir, 'forward.yaml')], env)).code, 0);
  const res = await fetch(`http://127.0.0.1:${up.httpPort}/v1/track`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('wk_dev:').toString('base64')}` },
    body: JSON.stringify({ userId: 'ada', event: 'form_submitted', messageId: 'm-1' }),
  });
  t.equal(res.status, 200);
  await sink.waitFor(1, 20_000);
  t.equal(sink.requests[0]?.path, '/hook', 'delivered to the sink on loopback');
  await waitUntil(
    async () =>
      /-> delivered \(http 200\) at /.test((await cairnBin(['inspect', 'user', 'ada'], env)).stdout),
    10_000,
    'inspect user shows the delivery as delivered',
  );
  t.equal(await up.stop(), 0);

  // `destination test` follows the sender's settings: refused, with the variables named.
  const test = await cairnBin(['destination', 'test', 'sink'], env);
  t.equal(test.code, 1);
  t.match(test.stderr, /127\.0\.0\.1 is in a denied network \(CAIRN_EGRESS_DENY\)/);
  t.match(test.stderr, /CAIRN_EGRESS_ALLOW_LOOPBACK=true/);
  t.match(test.stderr, /CAIRN_EGRESS_ALLOW\b/);
  const allowed = await cairnBin(['destination', 'test', 'sink'], {
    ...env,
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
  });
  t.equal(allowed.code, 0, allowed.stderr);
});

void t.test(
  'cairn up keeps the guard when CAIRN_EGRESS_ALLOW_LOOPBACK=false; without write keys it says HTTP gets 401',
  async (t) => {
    const help = await cairnBin(['up', '--help']);
    t.match(help.stdout, /Development mode: unless CAIRN_EGRESS_ALLOW_LOOPBACK is set/);
    const nats = await withNats(t);
    const up = await startUpBin({ NATS_URL: nats.url, CAIRN_EGRESS_ALLOW_LOOPBACK: 'false' });
    t.teardown(() => up.stop());
    t.notMatch(up.stderr(), /development mode/);
    await waitUntil(() => up.stderr().includes('ready'), 1_000, 'ready');
    // No CAIRN_WRITE_KEYS: said at start, and true of the HTTP API.
    t.match(
      up.stderr(),
      /cairn up: CAIRN_WRITE_KEYS is empty, so every HTTP Tracking API request will get 401; set write keys, e\.g\. CAIRN_WRITE_KEYS=wk_dev:local/,
    );
    t.match(help.stdout, /CAIRN_WRITE_KEYS=wk_dev:local cairn up/);
    const res = await fetch(`http://127.0.0.1:${up.httpPort}/v1/track`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('wk_dev:').toString('base64')}` },
      body: JSON.stringify({ userId: 'ada', event: 'x' }),
    });
    t.equal(res.status, 401);

    // GET / on the HTTP port: one line of JSON pointing at the API and the docs.
    const root = await fetch(`http://127.0.0.1:${up.httpPort}/`);
    t.equal(root.status, 200);
    const text = await root.text();
    t.equal(text.split('\n').length, 1, 'one line');
    t.match(JSON.parse(text), {
      api: [
        'POST /v1/track',
        'POST /v1/identify',
        'POST /v1/page',
        'POST /v1/screen',
        'POST /v1/group',
        'POST /v1/alias',
        'POST /v1/batch',
      ],
      docs: /docs\/ingest\.md/,
    });
  },
);

void t.test('cairn up with a NATS_URL that does not answer fails, and starts no nats-server', async (t) => {
  const cwd = t.testdir();
  const res = await cairnBin(['up'], { NATS_URL: 'nats://127.0.0.1:1', CAIRN_METRICS_PORT: '0' }, { cwd });
  t.not(res.code, 0);
  t.notMatch(res.stderr, /started a local nats-server/);
  t.notOk(existsSync(join(cwd, '.cairn')), 'no local store');
});

void t.test('piping into head ends quietly: no EPIPE stack trace', async (t) => {
  const steps = Array.from({ length: 3000 }, (_, i) => `  - { id: s${i}, type: sned }`).join('\n');
  const dir = t.testdir({
    'big.yaml': `id: big\nname: Big\ntrigger: { event: x }\nentry: { mode: once }\nsteps:\n${steps}\n`,
  });
  // Far more than a pipe holds: the writes go on after head has exited.
  const res = await cairnBin([], {}, { cwd: dir, shell: '$CAIRN journey validate big.yaml | head -1' });
  t.equal(res.code, 0, 'head exits 0');
  t.match(res.stdout, /^big\.yaml:6:\d+: error CAIRN_E_JOURNEY_UNKNOWN_STEP_TYPE/);
  t.equal(res.stdout.split('\n').filter(Boolean).length, 1);
  t.notMatch(res.stderr, /EPIPE|Unhandled|node:events/);
  t.match(res.stderr, /^cairn: big\.yaml has 3001 error\(s\)/);
});

void t.test('each subcommand has its own --help, with an example', async (t) => {
  const cases: [string[], RegExp][] = [
    [
      ['journey', 'publish', '--help'],
      /^Usage: cairn journey publish <file> \[--previous drain\|archive \| --shadow\]/,
    ],
    [['journey', 'validate', '--help'], /^Usage: cairn journey validate <file>/],
    [['journey', 'show', '--help'], /^Usage: cairn journey show <id>/],
    [['journey', 'preview', '--help'], /^Usage: cairn journey preview <file\|id>/],
    [['destination', 'put', '--help'], /^Usage: cairn destination put <file>/],
    [['destination', 'test', '--help'], /^Usage: cairn destination test <id>/],
    [['dlq', 'show', '--help'], /^Usage: cairn dlq show <seq>/],
    [['dlq', 'retry', '--help'], /^Usage: cairn dlq retry <seq>/],
    [['audience', 'add', '--help'], /^Usage: cairn audience add <audience> <userId>/],
  ];
  for (const [args, usage] of cases) {
    const res = await cairnBin(args);
    t.equal(res.code, 0, args.join(' '));
    t.match(res.stdout, usage, args.join(' '));
    t.match(
      res.stdout,
      new RegExp(`Example:\\n  (\\S+=\\S+ )?cairn ${args[0]} ${args[1]}`),
      `${args.join(' ')}: an example`,
    );
  }
  const publish = await cairnBin(['journey', 'publish', '--help']);
  t.match(
    publish.stdout,
    /--previous drain +\(default\) new entries go to the new version; instances already running/,
  );
  t.match(publish.stdout, /--previous archive +the old version's running instances end now/);
  // The group's help is still there.
  t.match((await cairnBin(['journey', '--help'])).stdout, /^Usage: cairn journey <command>/);
});
