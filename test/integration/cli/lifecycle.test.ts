// The shared lifecycle: starting -> ready -> draining -> stopped, readiness, clean stop.
import t from 'tap';

import { BusCodes, BusError } from '../../../libs/bus/index.js';
import type { ConfigError } from '../../../libs/config/index.js';
import { loadConfig } from '../../../libs/config/index.js';
import { describeStartFailure, startLifecycle, type RunningService } from '../../../libs/telemetry/index.js';
import { silentLogger } from '../../helpers/bus.js';
import { withNats } from '../../helpers/nats-server.js';

async function readyz(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  await res.arrayBuffer();
  return res.status;
}

class Service implements RunningService {
  ready = true;
  stoppedWith: number[] = [];
  isReady(): boolean {
    return this.ready;
  }
  async stop(graceMs: number): Promise<void> {
    this.stoppedWith.push(graceMs);
    await Promise.resolve();
  }
}

void t.test('ready once started; readiness follows every service; stop drains in order', async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({ NATS_URL: nats.url, CAIRN_METRICS_PORT: '0', CAIRN_SHUTDOWN_GRACE: '3s' });
  const a = new Service();
  const b = new Service();
  const life = await startLifecycle({
    name: 'test',
    config,
    logger: silentLogger,
    start: () => Promise.resolve([a, b]),
  });
  t.equal(life.state, 'ready');
  t.equal(await readyz(life.metricsPort), 200);
  // Provisioned: the streams exist.
  t.ok(await life.bus.jsm.streams.info('JOURNAL'));

  b.ready = false;
  t.equal(await readyz(life.metricsPort), 503);
  b.ready = true;

  const stopping = life.stop();
  t.equal(life.state, 'draining');
  t.equal(life.isReady(), false, 'readiness is off as soon as draining starts');
  await stopping;
  await life.stop();
  t.equal(life.state, 'stopped');
  t.same(a.stoppedWith, [3_000], 'each service stops once, with the grace period');
  t.same(b.stoppedWith, [3_000]);
  t.ok(life.bus.nc.isClosed(), 'the connection is closed');
  await t.rejects(fetch(`http://127.0.0.1:${life.metricsPort}/readyz`), 'the telemetry server is closed');
});

void t.test('a start that throws leaves nothing running', async (t) => {
  const nats = await withNats(t);
  const config = loadConfig({ NATS_URL: nats.url, CAIRN_METRICS_PORT: '0' });
  let afterStop = 0;
  await t.rejects(
    startLifecycle({
      name: 'test',
      config,
      logger: silentLogger,
      start: () => Promise.reject(new Error('boom')),
      afterStop: () => {
        afterStop++;
        return Promise.resolve();
      },
    }),
    { message: 'boom' },
  );
  t.equal(afterStop, 1);
});

void t.test('start failures: bad config exits 2, an unreachable bus 1 with its hint', async (t) => {
  let config: ConfigError | undefined;
  try {
    loadConfig({ CAIRN_PARTITIONS: 'many' });
  } catch (err) {
    config = err as ConfigError;
  }
  const bad = describeStartFailure('ingest', config);
  t.equal(bad.code, 2);
  t.match(bad.line, /CAIRN_PARTITIONS: "many" is not a whole number\. Fix: /);

  const unreachable = describeStartFailure(
    'ingest',
    new BusError(BusCodes.UNREACHABLE, 'cannot connect to NATS at x; start one'),
  );
  t.same(unreachable, {
    code: 1,
    line: 'cairn ingest: CAIRN_E_BUS_UNREACHABLE: cannot connect to NATS at x; start one',
  });

  const nats = await withNats(t);
  const port = nats.port;
  await nats.stop();
  await t.rejects(
    startLifecycle({
      name: 'test',
      config: loadConfig({ NATS_URL: `nats://127.0.0.1:${port}`, CAIRN_METRICS_PORT: '0' }),
      logger: silentLogger,
      start: () => Promise.resolve([]),
    }),
    { code: BusCodes.UNREACHABLE },
  );
});
