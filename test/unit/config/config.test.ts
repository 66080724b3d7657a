import t from 'tap';

import { ConfigCodes, ConfigError, loadConfig, ownedPartitions } from '../../../libs/config/index.js';

void t.test('defaults fill every setting', (t) => {
  const c = loadConfig({});
  t.equal(c.natsUrl, 'nats://127.0.0.1:4222');
  t.equal(c.natsCreds, undefined);
  t.equal(c.partitions, 16);
  t.equal(c.httpPort, 8088);
  t.equal(c.metricsPort, 9464);
  t.same(c.writeKeys, []);
  t.equal(c.logLevel, 'info');
  t.equal(c.replicas, 1);
  t.equal(c.ordinal, 0);
  t.equal(c.instances, 1);
  t.equal(c.timerBucketMs, 5_000);
  t.equal(c.shutdownGraceMs, 10_000);
  t.equal(c.maxDeliver, 10);
  t.equal(c.eventsMaxAgeMs, 7 * 86_400_000);
  t.equal(c.dedupeWindowMs, 120_000);
  t.equal(c.idempotencyWindowMs, 7 * 86_400_000);
  t.equal(c.sendTimeoutMs, 10_000);
  t.equal(c.egressAllowLoopback, false);
  t.same(ownedPartitions(c), [...Array(16).keys()]);
  t.end();
});

void t.test('overrides are parsed', (t) => {
  const c = loadConfig({
    NATS_URL: 'nats://a:4222,nats://b:4222',
    NATS_CREDS: '/etc/cairn/user.creds',
    CAIRN_PARTITIONS: '8',
    CAIRN_WRITE_KEYS: 'k1, k2:ios ,',
    CAIRN_LOG_LEVEL: 'DEBUG',
    CAIRN_INSTANCES: '3',
    CAIRN_ORDINAL: '1',
    CAIRN_TIMER_BUCKET: '1m30s',
    CAIRN_SEND_TIMEOUT: '250ms',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
  });
  t.equal(c.natsUrl, 'nats://a:4222,nats://b:4222');
  t.equal(c.natsCreds, '/etc/cairn/user.creds');
  t.same(c.writeKeys, [{ key: 'k1' }, { key: 'k2', source: 'ios' }]);
  t.equal(c.logLevel, 'debug');
  t.equal(c.timerBucketMs, 90_000);
  t.equal(c.sendTimeoutMs, 250);
  t.equal(c.egressAllowLoopback, true);
  t.same(ownedPartitions(c), [1, 4, 7]);
  t.end();
});

void t.test('the ordinal comes from a StatefulSet hostname', (t) => {
  const c = loadConfig({ CAIRN_INSTANCES: '4', HOSTNAME: 'cairn-matcher-2' });
  t.equal(c.ordinal, 2);
  t.same(ownedPartitions(c), [2, 6, 10, 14]);
  // Alone, any hostname means ordinal 0.
  t.equal(loadConfig({ HOSTNAME: 'laptop-7' }).ordinal, 0);
  t.end();
});

void t.test('bad values fail fast, naming every variable and its fix', (t) => {
  const env = {
    CAIRN_PARTITIONS: 'many',
    CAIRN_TIMER_BUCKET: '5 parsecs',
    CAIRN_LOG_LEVEL: 'loud',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'maybe',
    CAIRN_WRITE_KEYS: 'a:b:c',
  };
  const err = t.throws(() => loadConfig(env)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.code, ConfigCodes.INVALID);
  t.same(
    err.issues.map((i) => i.variable),
    [
      'CAIRN_PARTITIONS',
      'CAIRN_WRITE_KEYS',
      'CAIRN_LOG_LEVEL',
      'CAIRN_TIMER_BUCKET',
      'CAIRN_EGRESS_ALLOW_LOOPBACK',
    ],
  );
  t.match(
    err.message,
    /CAIRN_PARTITIONS: "many" is not a whole number\. Fix: use a whole number from 1 to 1024/,
  );
  t.match(err.message, /CAIRN_TIMER_BUCKET: "5 parsecs" is not a duration\. Fix: use a duration/);
  t.end();
});

void t.test('out of range and inconsistent ordinals are refused', (t) => {
  t.throws(() => loadConfig({ CAIRN_PARTITIONS: '0' }), {
    code: 'CAIRN_E_CONFIG_INVALID',
    message: /CAIRN_PARTITIONS: "0" must be >= 1/,
  });
  t.throws(() => loadConfig({ CAIRN_TIMER_BUCKET: '100ms' }), {
    message: /CAIRN_TIMER_BUCKET: 100ms is out of range/,
  });
  t.throws(() => loadConfig({ CAIRN_INSTANCES: '2', CAIRN_ORDINAL: '2' }), {
    message: /CAIRN_ORDINAL: 2 is not below CAIRN_INSTANCES=2/,
  });
  t.throws(() => loadConfig({ CAIRN_INSTANCES: '2', HOSTNAME: 'box' }), {
    message: /CAIRN_ORDINAL: is unset and HOSTNAME "box"/,
  });
  t.throws(() => loadConfig({ NATS_URL: 'http://x' }), {
    message: /NATS_URL: "http:\/\/x" is not a nats:\/\/ URL/,
  });
  t.end();
});

void t.test('HTTP timeouts and connection caps: defaults, overrides, and headers within the request', (t) => {
  const d = loadConfig({});
  t.strictSame(
    [d.httpHeadersTimeoutMs, d.httpRequestTimeoutMs, d.httpMaxConnections, d.httpMaxConnectionsPerIp],
    [10_000, 30_000, 4096, 256],
  );
  const c = loadConfig({
    CAIRN_HTTP_HEADERS_TIMEOUT: '5s',
    CAIRN_HTTP_REQUEST_TIMEOUT: '1m',
    CAIRN_HTTP_MAX_CONNECTIONS: '100',
    CAIRN_HTTP_MAX_CONNECTIONS_PER_IP: '0',
  });
  t.strictSame(
    [c.httpHeadersTimeoutMs, c.httpRequestTimeoutMs, c.httpMaxConnections, c.httpMaxConnectionsPerIp],
    [5_000, 60_000, 100, 0],
  );
  t.throws(() => loadConfig({ CAIRN_HTTP_HEADERS_TIMEOUT: '40s' }), {
    code: ConfigCodes.INVALID,
    message: /CAIRN_HTTP_HEADERS_TIMEOUT: 40s is above CAIRN_HTTP_REQUEST_TIMEOUT \(30s\)/,
  });
  t.throws(() => loadConfig({ CAIRN_HTTP_MAX_CONNECTIONS: '0' }), { code: ConfigCodes.INVALID });
  t.end();
});

void t.test('ingest shards: one by default, the shard set or from HOSTNAME, checked', (t) => {
  const d = loadConfig({});
  t.strictSame([d.ingestShards, d.ingestShard], [1, 0], 'one shard, shard 0');
  const set = loadConfig({ CAIRN_INGEST_SHARDS: '3', CAIRN_INGEST_SHARD: '2' });
  t.strictSame([set.ingestShards, set.ingestShard], [3, 2]);
  const host = loadConfig({ CAIRN_INGEST_SHARDS: '2', HOSTNAME: 'cairn-ingest-1' });
  t.equal(host.ingestShard, 1, 'from a StatefulSet HOSTNAME');
  // Every service shares the setting: a matcher pod's HOSTNAME says nothing of ingest shards.
  const other = loadConfig({ CAIRN_INGEST_SHARDS: '2', HOSTNAME: 'cairn-matcher-2' });
  t.equal(other.ingestShard, undefined, 'no shard, and no error, for a HOSTNAME ordinal out of range');
  t.equal(loadConfig({ CAIRN_INGEST_SHARDS: '2', HOSTNAME: 'box' }).ingestShard, undefined);
  t.throws(() => loadConfig({ CAIRN_INGEST_SHARDS: '2', CAIRN_INGEST_SHARD: '2' }), {
    message: /CAIRN_INGEST_SHARD: 2 is not below CAIRN_INGEST_SHARDS=2/,
  });
  t.throws(() => loadConfig({ CAIRN_PARTITIONS: '4', CAIRN_INGEST_SHARDS: '5' }), {
    message: /CAIRN_INGEST_SHARDS: 5 is above CAIRN_PARTITIONS=4/,
  });
  t.end();
});
