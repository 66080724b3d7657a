import { Buffer } from 'node:buffer';
import t from 'tap';
import {
  canonicalJson,
  fnv1a64Hex,
  forEachUtf8Byte,
  hashParts,
  unitOf,
  utf8Length,
} from '../../../libs/journey/index.js';

void t.test('FNV-1a 64 matches the published test vectors', (t) => {
  const vectors: Array<[string, string]> = [
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['foobar', '85944171f73967e8'],
  ];
  for (const [input, expected] of vectors) t.equal(fnv1a64Hex(input), expected, JSON.stringify(input));
  t.end();
});

void t.test('hashParts separates parts unambiguously', (t) => {
  t.not(hashParts('a', 'bc'), hashParts('ab', 'c'));
  t.equal(hashParts('x', 1), hashParts('x', '1'));
  t.match(hashParts('journey', 'user'), /^[0-9a-f]{16}$/);
  t.end();
});

void t.test('unitOf is in [0, 1) and spreads sequential keys evenly', (t) => {
  const buckets = new Array<number>(10).fill(0);
  let outOfRange = 0;
  for (let i = 0; i < 10_000; i++) {
    const u = unitOf(`user-${i}`, 'split');
    if (!(u >= 0 && u < 1)) outOfRange++;
    else buckets[Math.floor(u * 10)]!++;
  }
  t.equal(outOfRange, 0);
  for (const count of buckets) t.ok(count > 900 && count < 1100, `bucket count ${count}`);
  t.end();
});

void t.test('canonicalJson ignores key order and drops undefined members', (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, undefined], c: 'x' } }), '{"a":{"c":"x","d":[1,null]},"b":1}');
  t.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  t.equal(canonicalJson(undefined), 'null');
  t.end();
});

void t.test('UTF-8 length and bytes agree with the platform encoder', (t) => {
  for (const s of ['abc', 'é', '€', '😀', 'a\ud800b', 'x\udc00', 'end\ud83d']) {
    const bytes: number[] = [];
    forEachUtf8Byte(s, (b) => bytes.push(b));
    t.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), `length of ${JSON.stringify(s)}`);
    t.same(bytes, [...Buffer.from(s, 'utf8')], `bytes of ${JSON.stringify(s)}`);
  }
  t.end();
});
