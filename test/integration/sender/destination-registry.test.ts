// Destinations: the file form, the KV value, and the watched cache.
import t from 'tap';

import {
  DESTINATION_INVALID,
  DestinationCache,
  DestinationError,
  deleteDestination,
  getDestination,
  listDestinations,
  parseDestinationFile,
  putDestination,
} from '../../../libs/bus/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';

const SECRET = `whsec_${Buffer.from('0123456789abcdef').toString('base64')}`;

function issuesOf(obj: unknown): { path: string; message: string }[] {
  try {
    parseDestinationFile(obj);
  } catch (err) {
    if (err instanceof DestinationError) {
      if (err.code !== DESTINATION_INVALID) throw err;
      return err.issues;
    }
    throw err;
  }
  throw new Error('expected a DestinationError');
}

void t.test('parseDestinationFile: good forms', (t) => {
  t.same(
    parseDestinationFile({
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/hook',
      secret: SECRET,
      headers: { authorization: 'Bearer x' },
      timeout: '5s',
    }),
    {
      v: 1,
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/hook',
      secret: SECRET,
      headers: { authorization: 'Bearer x' },
      timeoutMs: 5_000,
    },
  );
  t.same(parseDestinationFile({ id: 'a', type: 'webhook', url: 'http://x.test', timeout: 2.5 }), {
    v: 1,
    id: 'a',
    type: 'webhook',
    url: 'http://x.test',
    timeoutMs: 2_500,
  });
  t.same(parseDestinationFile({ id: 'bus-1', type: 'nats', subject: 'crm.events' }), {
    v: 1,
    id: 'bus-1',
    type: 'nats',
    subject: 'crm.events',
  });
  t.end();
});

void t.test('parseDestinationFile: bad forms name the field', (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ['ftp url', { id: 'a', type: 'webhook', url: 'ftp://x' }, 'url', /http/],
    ['not a url', { id: 'a', type: 'webhook', url: 'nope' }, 'url', /http/],
    ['missing url', { id: 'a', type: 'webhook' }, 'url', /./],
    ['bad secret', { id: 'a', type: 'webhook', url: 'http://x.test', secret: 'abc' }, 'secret', /whsec_/],
    [
      'bad timeout',
      { id: 'a', type: 'webhook', url: 'http://x.test', timeout: 'soon' },
      'timeout',
      /duration/,
    ],
    ['huge timeout', { id: 'a', type: 'webhook', url: 'http://x.test', timeout: '1h' }, 'timeout', /5m/],
    [
      'header newline',
      { id: 'a', type: 'webhook', url: 'http://x.test', headers: { x: 'a\nb' } },
      'headers.x',
      /line/,
    ],
    ['bad id', { id: 'Bad Id', type: 'nats', subject: 'a.b' }, 'id', /a-z/],
    ['wildcard subject', { id: 'a', type: 'nats', subject: 'a.*' }, 'subject', /wildcard/],
    ['unknown type', { id: 'a', type: 'email' }, 'type', /webhook or nats/],
    // Reported at the unknown key's own path (issue 17), not at `type`.
    ['unknown key', { id: 'a', type: 'nats', subject: 'a', url: 'http://x' }, 'url', /unknown key 'url'/],
  ];
  for (const [name, obj, path, message] of cases) {
    const issues = issuesOf(obj);
    const hit = issues.find((i) => i.path === path);
    t.ok(hit, `${name}: issue at ${path} (${JSON.stringify(issues)})`);
    if (hit) t.match(hit.message, message, name);
  }
  t.throws(() => parseDestinationFile(null), { code: DESTINATION_INVALID });
  t.end();
});

void t.test('KV round trip and the watched cache', async (t) => {
  const { bus } = await withBus(t);
  const cache = new DestinationCache(bus, silentLogger);
  await cache.start();
  t.teardown(() => cache.stop());

  await putDestination(bus, { v: 1, id: 'b', type: 'nats', subject: 'x.b' });
  await putDestination(bus, { v: 1, id: 'a', type: 'webhook', url: 'http://a.test' });
  t.same(await getDestination(bus, 'a'), { v: 1, id: 'a', type: 'webhook', url: 'http://a.test' });
  t.equal(await getDestination(bus, 'missing'), undefined);
  t.same(
    (await listDestinations(bus)).map((d) => d.id),
    ['a', 'b'],
  );
  await t.rejects(putDestination(bus, { v: 1, id: 'c', type: 'webhook', url: 'file:///etc/passwd' }), {
    code: DESTINATION_INVALID,
  });

  await waitUntil(() => cache.size === 2, 5_000, 'cache filled by the watch');
  await putDestination(bus, { v: 1, id: 'b', type: 'nats', subject: 'x.changed' });
  await waitUntil(
    async () =>
      (await cache.get('b'))?.type === 'nats' && JSON.stringify(await cache.get('b')).includes('changed'),
    5_000,
    'update seen',
  );
  await deleteDestination(bus, 'a');
  await waitUntil(() => cache.size === 1, 5_000, 'delete seen');
  t.equal(await cache.get('a'), undefined);
});

void t.test('parseDestinationFile: secrets, retry budget and isolation settings', (t) => {
  const other = `whsec_${Buffer.from('fedcba9876543210').toString('base64')}`;
  t.same(
    parseDestinationFile({
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/hook',
      secrets: [SECRET, other],
      retryBudget: '4h',
      concurrency: 8,
      rateLimit: 25,
      circuit: { failureRate: 0.25, minRequests: 5, cooldown: '10s' },
    }),
    {
      v: 1,
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/hook',
      secrets: [SECRET, other],
      retryBudgetMs: 14_400_000,
      concurrency: 8,
      rateLimit: 25,
      circuit: { failureRate: 0.25, minRequests: 5, cooldownMs: 10_000 },
    },
  );
  t.same(parseDestinationFile({ id: 'bus', type: 'nats', subject: 'a.b', retryBudget: 90 }), {
    v: 1,
    id: 'bus',
    type: 'nats',
    subject: 'a.b',
    retryBudgetMs: 90_000,
  });
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', secret: SECRET, secrets: [SECRET] }), [
    { path: 'secrets', message: /either secret or secrets/ },
  ]);
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', secrets: ['nope'] }), [
    { path: 'secrets.0', message: /whsec_/ },
  ]);
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', retryBudget: '5d' }), [
    { path: 'retryBudget', message: /1s to 3d/ },
  ]);
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', concurrency: 0 }), [
    { path: 'concurrency' },
  ]);
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', circuit: { failureRate: 2 } }), [
    { path: 'circuit.failureRate' },
  ]);
  t.match(issuesOf({ id: 'x', type: 'webhook', url: 'https://x', secrets: Array(6).fill(SECRET) }), [
    { path: 'secrets' },
  ]);
  t.end();
});
