// The author's path as a newcomer walks it, part two (part one: newcomer.test.ts): journey and
// destination commands with the built binary (bin/cairn.js, needs `npm run build`) on a real
// nats-server. Two files, so that each stays well within a test file's time limit on a loaded host.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { waitUntil } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';
import { cairnBin, FORWARD_JOURNEY as JOURNEY, startUpBin } from './bin.js';
import { REPO } from './helpers.js';

void t.test("journey validate reports a typo'd key and an unknown next in one run", async (t) => {
  const dir = t.testdir({
    'typo.yaml':
      'id: t1\nname: T\ntrigger: { event: x }\nentry: { mode: once }\nsteps:\n  - { id: a, type: delay, after: 1h, timout: 1h, next: nowhere }\n  - { id: c, type: exit }\n',
  });
  const res = await cairnBin(['journey', 'validate', join(dir, 'typo.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stdout, /error CAIRN_E_JOURNEY_UNKNOWN_KEY at steps\[0\]\.timout/);
  t.match(res.stdout, /error CAIRN_E_JOURNEY_UNKNOWN_STEP at steps\[0\]\.next: no step has the id 'nowhere'/);
  t.match(res.stderr, /has 2 error\(s\)/);
});

void t.test('journey show and destination show print what validate and put accept', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const written = `# my journey\nid: wait-then-send\nname: Wait then send\ntrigger: { event: signed_up }\nentry: { mode: once }\nsteps:\n  - { id: wait, type: delay, after: 10s }\n  - { id: send, type: send, to: [sink], event: Welcome }\n`;
  const dir = t.testdir({
    'j.yaml': written,
    'sink.yaml':
      'id: sink\ntype: webhook\nurl: https://example.com/hook\ntimeout: 5s\nretryBudget: 2h\ncircuit: { failureRate: 0.5, cooldown: 30s }\n',
  });
  t.equal((await cairnBin(['destination', 'put', join(dir, 'sink.yaml')], env)).code, 0);
  t.equal((await cairnBin(['journey', 'publish', join(dir, 'j.yaml')], env)).code, 0);

  const shown = await cairnBin(['journey', 'show', 'wait-then-send'], env);
  t.equal(shown.code, 0, shown.stderr);
  t.match(shown.stdout, /^# wait-then-send v1 \(active\), published /);
  t.ok(shown.stdout.endsWith(written), 'the text as written');
  const again = join(dir, 'shown.yaml');
  writeFileSync(again, shown.stdout);
  const valid = await cairnBin(['journey', 'validate', again]);
  t.equal(valid.code, 0, valid.stdout + valid.stderr);

  const compiled = await cairnBin(['journey', 'show', 'wait-then-send', '--compiled'], env);
  t.match(compiled.stdout, /after: 10000/);

  const dest = await cairnBin(['destination', 'show', 'sink'], env);
  t.equal(dest.code, 0, dest.stderr);
  t.match(dest.stdout, /^timeout: 5s$/m);
  t.match(dest.stdout, /^retryBudget: 2h$/m);
  t.match(dest.stdout, /cooldown: 30s/);
  t.notMatch(dest.stdout, /^v: |timeoutMs|retryBudgetMs|cooldownMs/m);
  const destAgain = join(dir, 'sink-shown.yaml');
  writeFileSync(destAgain, dest.stdout);
  const put = await cairnBin(['destination', 'put', destAgain], env);
  t.equal(put.code, 0, put.stdout + put.stderr);
});

void t.test('publishing an unchanged file makes no new version, and says so', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const file = join(REPO, 'examples/journeys/form-forwarding.yaml');
  const dest = join(REPO, 'examples/destinations/demo-webhook.yaml');
  t.equal((await cairnBin(['destination', 'put', dest], env)).code, 0);
  const first = await cairnBin(['journey', 'publish', file], env);
  t.match(first.stdout, /published form-forwarding v1\n/);
  const again = await cairnBin(['journey', 'publish', file], env);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /unchanged: form-forwarding v1 is active with the same content; no new version\n/);
  t.notMatch(again.stdout, /published|drains/);
  const list = await cairnBin(['journey', 'list'], env);
  t.match(list.stdout, /^form-forwarding {2}active v1 {2}\(v1 active\)$/m);
});

void t.test('journey publish checks that its destinations exist', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const dir = t.testdir({
    'j.yaml':
      'id: fwd\nname: Fwd\ntrigger: { event: x }\nentry: { mode: once }\nsteps:\n  - { id: s, type: send, to: [demo-webhok], event: X }\n',
  });
  t.equal(
    (await cairnBin(['destination', 'put', join(REPO, 'examples/destinations/demo-webhook.yaml')], env)).code,
    0,
  );
  const refused = await cairnBin(['journey', 'publish', join(dir, 'j.yaml')], env);
  t.equal(refused.code, 1);
  t.match(
    refused.stderr,
    /j\.yaml: error at steps\[0\]\.to\[0\]: destination 'demo-webhok' does not exist \(did you mean 'demo-webhook'\? destinations: demo-webhook\)/,
  );
  t.match(
    refused.stderr,
    /sends to 1 destination\(s\) that do not exist\. Put them first .*--allow-missing-destinations/,
  );
  t.match((await cairnBin(['journey', 'list'], env)).stdout, /no journeys yet/, 'nothing published');

  const allowed = await cairnBin(
    ['journey', 'publish', join(dir, 'j.yaml'), '--allow-missing-destinations'],
    env,
  );
  t.equal(allowed.code, 0, allowed.stderr);
  t.match(
    allowed.stderr,
    /j\.yaml: warning at steps\[0\]\.to\[0\]: destination 'demo-webhok' does not exist/,
  );
  t.match(allowed.stdout, /published fwd v1/);
});

void t.test('dlq show: ISO times and the message decoded, not base64', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const dir = t.testdir({
    'sink.yaml': 'id: sink\ntype: webhook\nurl: http://127.0.0.1:9/hook\n',
    'forward.yaml': JOURNEY,
  });
  // The guard kept: the delivery to loopback is dead-lettered at once (egress_denied).
  const up = await startUpBin({ ...env, CAIRN_WRITE_KEYS: 'wk', CAIRN_EGRESS_ALLOW_LOOPBACK: 'false' });
  t.teardown(() => up.stop());
  t.equal((await cairnBin(['destination', 'put', join(dir, 'sink.yaml')], env)).code, 0);
  t.equal((await cairnBin(['journey', 'publish', join(dir, 'forward.yaml')], env)).code, 0);
  const track = (body: object) =>
    fetch(`http://127.0.0.1:${up.httpPort}/v1/track`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('wk:').toString('base64')}` },
      body: JSON.stringify(body),
    });
  t.equal((await track({ event: 'no_user', messageId: 'n-1' })).status, 200, 'accepted, then dead-lettered');
  t.equal((await track({ userId: 'ada', event: 'form_submitted', messageId: 'f-1' })).status, 200);
  let lines: string[] = [];
  await waitUntil(
    async () => {
      lines = (await cairnBin(['dlq', 'list'], env)).stdout.split('\n').filter(Boolean);
      return lines.length === 2;
    },
    20_000,
    'two dead letters',
  );
  const ingestSeq = lines.find((l) => l.includes('dlq.ingest'))!.split(' ')[0]!;
  const deliverSeq = lines.find((l) => l.includes('dlq.deliver'))!.split(' ')[0]!;

  const ingest = await cairnBin(['dlq', 'show', ingestSeq], env);
  t.equal(ingest.code, 0, ingest.stderr);
  t.match(ingest.stdout, /^message:\n(.*\n)*  event: no_user\n/m, 'the event as JSON');
  t.notMatch(ingest.stdout, /^payload:/m);
  t.match(ingest.stdout, /^at: "?\d{4}-\d\d-\d\dT/m);

  const deliver = await cairnBin(['dlq', 'show', deliverSeq], env);
  t.equal(deliver.code, 0, deliver.stderr);
  t.match(deliver.stdout, /reason: egress_denied/);
  t.match(deliver.stdout, /^job:\n/m);
  t.match(deliver.stdout, /eventReceivedAt: "?\d{4}-\d\d-\d\dT/);
  t.match(deliver.stdout, /^ {4}at: "?\d{4}-\d\d-\d\dT/m, 'attempt times');
  t.notMatch(deliver.stdout, /^payload:/m, 'no base64 blob');
  t.notMatch(deliver.stdout, /: 1[78]\d{11}\n/, 'no epoch milliseconds');

  // The person's timeline says what became of the delivery, not only that it was sent.
  const inspect = await cairnBin(['inspect', 'user', 'ada'], env);
  t.equal(inspect.code, 0, inspect.stderr);
  t.match(
    inspect.stdout,
    new RegExp(
      `forward v1  sent  step=send.* -> dead-lettered \\(egress_denied\\) at \\S+: cairn dlq show ${deliverSeq}`,
    ),
  );
});

void t.test(
  'an unknown key gets its own path and a did-you-mean; an exit rule with send names the { rules, send } form',
  async (t) => {
    const dir = t.testdir({
      'crm.yaml':
        'id: crm\ntype: webhook\nurl: https://example.com/hook\ntimout: 5s\ncircuit: { coldown: 30s }\n',
      'exit.yaml':
        'id: j\nname: J\ntrigger: { event: x }\nentry: { mode: once }\nexit:\n  - { event: y, send: { to: [crm], event: Bye } }\nsteps:\n  - { id: e, type: exit }\n',
    });
    const nats = await withNats(t);
    const put = await cairnBin(['destination', 'put', join(dir, 'crm.yaml')], { NATS_URL: nats.url });
    t.equal(put.code, 1);
    t.match(
      put.stdout,
      /crm\.yaml: error CAIRN_E_DESTINATION_INVALID at timout: unknown key 'timout' \(did you mean 'timeout'\?/,
    );
    t.match(put.stdout, /at circuit\.coldown: unknown key 'coldown' \(did you mean 'cooldown'\?/);

    const exit = await cairnBin(['journey', 'validate', join(dir, 'exit.yaml')]);
    t.equal(exit.code, 1);
    t.match(
      exit.stdout,
      /error CAIRN_E_JOURNEY_UNKNOWN_KEY at exit\[0\]\.send: .*exit: \{ rules: \[\{ event: \.\.\. \}\], send: \{/,
    );
  },
);
