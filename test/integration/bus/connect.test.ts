import t from 'tap';

import { BusCodes, connectBus, compareVersions } from '../../../libs/bus/index.js';
import { silentLogger } from '../../helpers/bus.js';
import { freePort, withNats } from '../../helpers/nats-server.js';

void t.test('an unreachable URL fails fast with CAIRN_E_BUS_UNREACHABLE naming the URL', async (t) => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  await t.rejects(connectBus({ url, name: 'test', logger: silentLogger, connectTimeoutMs: 1_000 }), {
    code: BusCodes.UNREACHABLE,
    message: new RegExp(`${url.replace(/[.]/g, '\\.')}.*nats-server -js.*NATS_URL`),
  });
  t.ok(Date.now() - started < 5_000, 'fails within seconds');
});

void t.test('a server without JetStream gives CAIRN_E_BUS_JETSTREAM_DISABLED', async (t) => {
  const server = await withNats(t, { jetstream: false });
  await t.rejects(connectBus({ url: server.url, name: 'test', logger: silentLogger, apiTimeoutMs: 2_000 }), {
    code: BusCodes.JETSTREAM_DISABLED,
    message: /-js/,
  });
});

void t.test('a JetStream server connects; kv handles are cached', async (t) => {
  const server = await withNats(t);
  const bus = await connectBus({ url: server.url, name: 'test', logger: silentLogger });
  t.teardown(() => bus.close());
  t.ok(compareVersions(bus.serverVersion, '2.9.4') >= 0);
  const info = await bus.jsm.getAccountInfo();
  t.type(info.limits, 'object');
});

void t.test('compareVersions', (t) => {
  t.equal(compareVersions('2.9.10', '2.9.4'), 1);
  t.equal(compareVersions('2.9.3', '2.9.4'), -1);
  t.equal(compareVersions('2.10.0-beta.1', '2.10.0'), 0);
  t.equal(compareVersions('3.0.0', '2.99.99'), 1);
  t.end();
});
