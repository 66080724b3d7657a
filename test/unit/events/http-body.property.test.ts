// Property: whatever bytes arrive as a request body, the HTTP body reader (parseEventJson, then
// prepareHttpEvents) gives events to store or a refusal with a documented code; it never throws.
// The UTF-8 scan that places an invalid sequence agrees with TextDecoder's own verdict.
import fc from 'fast-check';
import t from 'tap';

import {
  EVENT_TYPES,
  firstInvalidUtf8,
  parseEventJson,
  prepareHttpEvents,
  type HttpApiPath,
} from '../../../libs/events/index.js';
import { documentedCodes, fuzzParams, requestBody as body } from '../../helpers/fuzz.js';

const CODES = documentedCodes('Events');
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

const path = fc.constantFrom<HttpApiPath>(...EVENT_TYPES, 'batch');

void t.test('any body: events to store or a documented refusal, never a throw', (t) => {
  fc.assert(
    fc.property(body, path, (bytes, p) => {
      const parsed = parseEventJson(bytes, { maxBytes: 500 * 1024 });
      if (!parsed.ok) {
        if (!CODES.has(parsed.error.code)) throw new Error(`undocumented ${parsed.error.code}`);
        const at = parsed.error.at;
        if (at && (at.offset < 0 || at.offset > bytes.length || at.line < 1 || at.column < 1)) {
          throw new Error(`position outside the body: ${JSON.stringify(at)}`);
        }
        return;
      }
      const prepared = prepareHttpEvents(p, parsed.value, { generateId: () => 'gen' });
      if (!prepared.ok) {
        if (prepared.reason === '') throw new Error('no reason');
        if (prepared.code !== undefined && !CODES.has(prepared.code))
          throw new Error(`undocumented ${prepared.code}`);
        return;
      }
      for (const e of prepared.events) {
        if (!/^events\.(track|identify|page|screen|group|alias|unknown)$/.test(e.subject)) {
          throw new Error(`subject ${e.subject}`);
        }
        if (typeof e.messageId !== 'string' || e.messageId === '') throw new Error('no messageId');
      }
    }),
    fuzzParams(500),
  );
  t.pass('held');
  t.end();
});

void t.test('the UTF-8 scan agrees with TextDecoder and points at a byte it refuses', (t) => {
  const utf8ish = fc.oneof(
    fc.uint8Array({ maxLength: 32 }),
    fc
      .tuple(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.uint8Array({ maxLength: 4 }),
        fc.string({ maxLength: 4 }),
      )
      .map(([a, b, c]) => Uint8Array.from([...encoder.encode(a), ...b, ...encoder.encode(c)])),
  );
  fc.assert(
    fc.property(utf8ish, (bytes) => {
      let valid = true;
      try {
        decoder.decode(bytes);
      } catch {
        valid = false;
      }
      const offset = firstInvalidUtf8(bytes);
      if (valid !== (offset === undefined)) throw new Error(`scan says ${offset}, decoder says ${valid}`);
      if (offset !== undefined) {
        decoder.decode(bytes.subarray(0, offset)); // everything before it is valid
        // The refused sequence is at most 4 bytes long, so a prefix covering it fails too.
        if (offset + 4 <= bytes.length) {
          let decodes = true;
          try {
            decoder.decode(bytes.subarray(0, offset + 4));
          } catch {
            decodes = false;
          }
          if (decodes) throw new Error(`the bytes at ${offset} decode`);
        }
      }
    }),
    fuzzParams(1000),
  );
  t.pass('held');
  t.end();
});
