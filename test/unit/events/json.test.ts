// parseEventJson: bytes to a value, or a refusal with the line, column and byte of the error.
import t from 'tap';
import { EventCodes, findJsonSyntaxError, parseEventJson } from '../../../libs/events/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

void t.test('valid JSON parses to its value', (t) => {
  t.strictSame(parseEventJson(utf8('{"type":"track","n":[1,-2.5e3,true,null]}')), {
    ok: true,
    value: { type: 'track', n: [1, -2500, true, null] },
  });
  t.strictSame(
    parseEventJson(utf8('\uFEFF{"a":1}')),
    { ok: true, value: { a: 1 } },
    'a byte order mark is dropped',
  );
  t.strictSame(
    parseEventJson(utf8(' [ ] ')),
    { ok: true, value: [] },
    'any JSON value: the event check comes later',
  );
  t.end();
});

void t.test('syntax errors give line, column and byte offset', (t) => {
  const table: Array<[string, number, number, number, string]> = [
    // text, line, column, byte offset, message
    ['', 1, 1, 0, 'unexpected end of input: expected a value'],
    ['{"a":}', 1, 6, 5, 'expected a value'],
    ['{"a":1,}', 1, 8, 7, 'expected a property name in double quotes'],
    ['{a:1}', 1, 2, 1, 'expected a property name in double quotes'],
    ["{'a':1}", 1, 2, 1, 'expected a property name in double quotes'],
    ['{"a" 1}', 1, 6, 5, "expected ':' after a property name"],
    ['{"a":1 "b":2}', 1, 8, 7, "expected ',' or '}'"],
    ['[1 2]', 1, 4, 3, "expected ',' or ']'"],
    ['[1,]', 1, 4, 3, 'expected a value'],
    ['{"a":[1,2}', 1, 10, 9, "expected ',' or ']'"],
    ['{\n  "type": "track",\n  "event": "x",\n}', 4, 1, 37, 'expected a property name in double quotes'],
    ['{"é": 1,\n "b": tru}', 2, 7, 16, 'expected a value'],
    ['{"a":"b', 1, 8, 7, 'unexpected end of input: unterminated string'],
    ['{"a":"b\nc"}', 1, 8, 7, 'control character in string (escape it, e.g. \\n)'],
    ['{"a":"\\x"}', 1, 8, 7, 'invalid escape in string'],
    ['{"a":"\\u12G4"}', 1, 8, 7, 'expected 4 hex digits after \\u'],
    ['{"a":01}', 1, 7, 6, "expected ',' or '}'"],
    ['{"a":-}', 1, 6, 5, 'expected a value'],
    ['{"a":1.}', 1, 7, 6, "expected ',' or '}'"],
    ['{"a":NaN}', 1, 6, 5, 'expected a value'],
    ['{"a":1} x', 1, 9, 8, 'unexpected character after the JSON value'],
    ['{"a":1}}', 1, 8, 7, 'unexpected character after the JSON value'],
    ['{"a":[', 1, 7, 6, 'unexpected end of input: expected a value'],
    ['{"a":1', 1, 7, 6, "unexpected end of input: expected ',' or '}'"],
    ['{', 1, 2, 1, 'unexpected end of input: expected a property name in double quotes'],
    ['{"a', 1, 4, 3, 'unexpected end of input: unterminated string'],
    ['{"a":1,"b\\q":2}', 1, 11, 10, 'invalid escape in string'],
  ];
  for (const [text, line, column, offset, message] of table) {
    const result = parseEventJson(utf8(text));
    t.strictSame(
      result,
      {
        ok: false,
        error: {
          code: EventCodes.NOT_JSON,
          reason: `invalid JSON at line ${line}, column ${column} (byte ${offset}): ${message}`,
          at: { line, column, offset },
        },
      },
      JSON.stringify(text),
    );
  }
  t.end();
});

void t.test('the byte offset counts a byte order mark', (t) => {
  t.match(parseEventJson(utf8('\uFEFF{"a":}')), {
    ok: false,
    error: { at: { line: 1, column: 6, offset: 8 } },
  });
  t.end();
});

void t.test('the scanner agrees with JSON.parse on valid JSON, deep nesting included', (t) => {
  const valid = [
    '{"a":{"b":[1,{"c":"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"}]},"d":[],"e":{}}',
    ' \t\r\n{ "a" : [ true , false , null , 0 , -0.5E-3 , 12e+2 ] } ',
    '['.repeat(20_000) + ']'.repeat(20_000),
    '"just a string"',
  ];
  for (const text of valid) {
    JSON.parse(text);
    t.equal(findJsonSyntaxError(text), undefined, text.slice(0, 40));
  }
  const deep = '['.repeat(20_000) + ']'.repeat(19_999);
  t.match(findJsonSyntaxError(deep), {
    index: deep.length,
    message: "unexpected end of input: expected ',' or ']'",
  });
  t.end();
});

void t.test('invalid UTF-8 is refused with the line, column and byte where it starts', (t) => {
  const bytes = (...parts: Array<string | number[]>): Uint8Array =>
    new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...utf8(p)] : p)));
  const table: Array<[string, Uint8Array, number, number, number]> = [
    // case, bytes, line, column, byte offset
    ['a stray 0xFF', bytes('{"', [0xff], '"}'), 1, 3, 2],
    ['after a newline and a 2-byte character', bytes('{\n "é": "', [0xc3], '"}'), 2, 8, 10],
    ['an overlong slash', bytes('{"a":"', [0xc0, 0xaf], '"}'), 1, 7, 6],
    ['a UTF-8-encoded surrogate', bytes('["', [0xed, 0xa0, 0x80], '"]'), 1, 3, 2],
    ['above U+10FFFF', bytes('[', [0xf4, 0x90, 0x80, 0x80], ']'), 1, 2, 1],
    ['a truncated sequence at the end', bytes('["😀', [0xf0, 0x9f]), 1, 5, 6],
    ['after a byte order mark', bytes([0xef, 0xbb, 0xbf], '{', [0x80]), 1, 2, 4],
  ];
  for (const [name, body, line, column, offset] of table) {
    t.strictSame(
      parseEventJson(body),
      {
        ok: false,
        error: {
          code: EventCodes.NOT_JSON,
          reason: `the body is not valid UTF-8 at line ${line}, column ${column} (byte ${offset})`,
          at: { line, column, offset },
        },
      },
      name,
    );
  }
  t.end();
});

void t.test('maxBytes refuses a larger body before decoding it', (t) => {
  const body = utf8('{"a":"' + 'x'.repeat(94) + '"}'); // 102 bytes
  t.match(parseEventJson(body, { maxBytes: 102 }), { ok: true });
  t.strictSame(parseEventJson(body, { maxBytes: 101 }), {
    ok: false,
    error: { code: EventCodes.TOO_LARGE, reason: 'the event is 102 bytes; the limit is 101 bytes' },
  });
  t.match(parseEventJson(new Uint8Array([0xff, 0xff]), { maxBytes: 1 }), {
    error: { code: EventCodes.TOO_LARGE },
  });
  t.end();
});
