import t from 'tap';
import { z } from 'zod';

import {
  BusCodes,
  decodeKey,
  defineMessage,
  encodeKey,
  fnv1a32,
  instanceKvKey,
  MAX_KEY_TOKEN_LENGTH,
  partitionOf,
} from '../../../libs/bus/index.js';

void t.test('fnv1a32 matches the published FNV-1a 32-bit vectors', (t) => {
  t.equal(fnv1a32(''), 0x811c9dc5);
  t.equal(fnv1a32('a'), 0xe40c292c);
  t.equal(fnv1a32('foobar'), 0xbf9cf968);
  // UTF-8 bytes, not UTF-16 code units: "é" is c3 a9.
  t.equal(fnv1a32('é'), expectedUtf8('é'));
  t.equal(fnv1a32('é'), 0x1e9de8c1);
  t.equal(partitionOf('foobar', 16), 0xbf9cf968 % 16);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(partitionOf(`user-${i}`, 16));
  t.equal(seen.size, 16, 'users spread over every partition');
  t.end();
});

function expectedUtf8(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

const Ping = defineMessage(
  'ping',
  z.object({ v: z.literal(1), id: z.string(), at: z.number(), tags: z.array(z.string()) }),
);

void t.test('codec round trip', (t) => {
  const value = { v: 1 as const, id: 'x', at: 1_700_000_000_000, tags: ['a', 'b'] };
  t.same(Ping.decode(Ping.encode(value)), value);
  t.end();
});

void t.test('decode errors are typed and name the reason', (t) => {
  const Other = defineMessage('other', z.object({ v: z.literal(2), id: z.number() }));
  t.throws(() => Ping.decode(Other.encode({ v: 2, id: 5 })), {
    code: BusCodes.DECODE,
    message: /ping: v: .*; id: /,
  });
  t.throws(() => Ping.decode(new Uint8Array([0x92, 0x01])), {
    code: BusCodes.DECODE,
    message: /ping: not msgpack/,
  });
  t.end();
});

void t.test('encodeKey makes any string a valid KV key', (t) => {
  for (const raw of ['user@example.com', 'ünïcode 用户', 'a.b*c>d', '+/=']) {
    const key = encodeKey(raw);
    t.match(key, /^[-/_=.a-zA-Z0-9]+$/);
    t.equal(decodeKey(key), raw);
  }
  t.end();
});

void t.test('a key token stays bounded: long values are hashed, short keys unchanged', (t) => {
  // Every key an accepted id or uniqueBy value ever made is plain base64url, as before.
  const id = '用'.repeat(256); // 768 UTF-8 bytes: the longest a 256-character id encodes to
  t.equal(encodeKey(id), Buffer.from(id).toString('base64url'));
  t.equal(encodeKey(id).length, MAX_KEY_TOKEN_LENGTH);
  t.equal(decodeKey(encodeKey(id)), id);

  const long = 'c'.repeat(20_000);
  const hashed = encodeKey(long);
  t.match(hashed, /^=[-_a-zA-Z0-9]{43}$/, 'a SHA-256 behind "=", which base64url never writes');
  t.equal(encodeKey(long), hashed, 'stable');
  t.not(encodeKey(`${long}d`), hashed, 'another value, another key');
  t.equal(decodeKey(hashed), undefined, 'not reversible');

  const key = instanceKvKey('carts', 'u1', long);
  t.ok(key.length < 100, `an instance key for a 20,000-character uniqueBy value is ${key.length} characters`);
  t.equal(instanceKvKey('carts', 'u1', 'c1'), `carts.${encodeKey('u1')}.${encodeKey('c1')}`);
  t.end();
});
