// `cairn destination put|list|show`, in-process against a real nats-server; secrets masked.
import t from 'tap';

import { runCli } from '../../../services/cli/cli.js';
import { withNats } from '../../helpers/nats-server.js';
import { captureIo } from './helpers.js';

void t.test('put, list, show round trip with the secret masked', async (t) => {
  const nats = await withNats(t);
  const env = { NATS_URL: nats.url };
  const dir = t.testdir({
    'bus.yaml': 'id: audit-bus\ntype: nats\nsubject: audit.sends\n',
    'crm.json': JSON.stringify({
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/hooks',
      headers: { authorization: 'Bearer top-secret' },
    }),
  });

  let io = captureIo(env);
  t.equal(await runCli(['destination', 'list'], io), 0);
  t.match(io.stdout[0], /no destinations yet/);

  io = captureIo(env);
  const files = ['examples/destinations/demo-webhook.yaml', `${dir}/bus.yaml`, `${dir}/crm.json`];
  t.equal(await runCli(['destination', 'put', ...files], io), 0, io.text());
  t.same(io.stdout, [
    'put destination demo-webhook  webhook  http://127.0.0.1:8099/hooks/demo  (signed)',
    'put destination audit-bus  nats  audit.sends',
    'put destination crm  webhook  https://crm.example.com/hooks',
  ]);

  io = captureIo(env);
  t.equal(await runCli(['destination', 'list'], io), 0);
  t.same(io.stdout, [
    'audit-bus  nats  audit.sends',
    'crm  webhook  https://crm.example.com/hooks',
    'demo-webhook  webhook  http://127.0.0.1:8099/hooks/demo  (signed)',
  ]);

  io = captureIo(env);
  t.equal(await runCli(['destination', 'show', 'demo-webhook'], io), 0);
  const shown = io.stdout.join('\n');
  t.match(shown, /url: http:\/\/127\.0\.0\.1:8099\/hooks\/demo/);
  t.match(shown, /secret: whsec_\*\*\*\*/);
  t.match(shown, /^timeout: 5s$/m, 'written the way put takes it');
  t.notMatch(shown, /ZGVtby1zZWNyZXQ/, 'the secret does not leave');

  io = captureIo(env);
  t.equal(await runCli(['destination', 'show', 'crm'], io), 0);
  t.notMatch(io.text(), /top-secret/, 'header values are masked');

  io = captureIo(env);
  t.equal(await runCli(['destination', 'show', 'nope'], io), 1);
  t.same(io.stderr, ['cairn: destination nope does not exist. List them with `cairn destination list`']);
});

void t.test('put: an invalid file names each bad field and stores nothing', async (t) => {
  const nats = await withNats(t);
  const dir = t.testdir({ 'bad.yaml': 'id: Bad Id\ntype: webhook\nurl: ftp://x\n' });
  const io = captureIo({ NATS_URL: nats.url });
  t.equal(await runCli(['destination', 'put', `${dir}/bad.yaml`], io), 1);
  t.match(io.stdout.join('\n'), /bad\.yaml: error CAIRN_E_DESTINATION_INVALID at id: /);
  t.match(io.stdout.join('\n'), /at url: must be an http:\/\/ or https:\/\/ URL/);
  t.match(io.stderr[0], /^cairn: .*bad\.yaml is not a valid destination\. /);
  const list = captureIo({ NATS_URL: nats.url });
  await runCli(['destination', 'list'], list);
  t.match(list.stdout[0], /no destinations yet/);
});
