// Messages Cairn wrote itself are trusted (libs/bus/codec.ts): a decoded value that passes the
// message's hand-written shape is returned without zod. The shape must never accept what the
// schema refuses: for mutated messages (a member removed, replaced by any value, nested ones
// included), decode refuses exactly what the schema refuses, with the schema's reason.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import t from 'tap';
import { z } from 'zod';

import {
  BusCodes,
  DeliverJobMessage,
  DeliverJobSchema,
  MatchEventMessage,
  NormalizedEventSchema,
  ShadowEventMessage,
  TimerMessage,
  TimerSchema,
  type MessageCodec,
} from '../../../libs/bus/index.js';
import { fuzzParams, jsonish } from '../../helpers/fuzz.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

const job = {
  v: 1,
  deliveryId: 'forward:1:abc:crm:0',
  destination: 'sink',
  userKey: 'u1',
  stepKey: { journeyId: 'forward', version: 1, stepId: 'crm' },
  payload: { form_id: 'f1', nested: { a: [1, 2] } },
  eventReceivedAt: 1_700_000_000_000,
  eventTimestamp: 1_700_000_000_000,
  attempt: 2,
  firstAttemptAt: 1_700_000_000_500,
  notBefore: 1_700_000_001_000,
  attempts: [
    { n: 1, at: 1_700_000_000_500, durationMs: 12, outcome: 'retry', status: 503, detail: 'http 503' },
  ],
};
const event = {
  v: 1,
  kind: 'event',
  event: {
    type: 'track',
    name: 'form_submitted',
    userKey: 'u1',
    userId: 'u1',
    anonymousId: 'a1',
    messageId: 'm1',
    timestamp: 1_700_000_000_000,
    receivedAt: 1_700_000_000_001,
    properties: { form_id: 'f1' },
    traits: {},
    context: { ip: '1.2.3.4' },
  },
};
const timer = {
  v: 1,
  kind: 'timer',
  journeyId: 'j',
  userKey: 'u1',
  instanceKey: 'i',
  token: 't',
  at: 1_700_000_000_000,
  deliver: job,
};

// MatchEventMessage's schema, as messages.ts defines it.
const MatchEventSchema = z.object({
  v: z.literal(1),
  kind: z.literal('event'),
  event: NormalizedEventSchema,
});

// ShadowEventMessage's schema, as messages.ts defines it.
const ShadowEventSchema = z.object({
  v: z.literal(1),
  kind: z.literal('shadow_event'),
  event: NormalizedEventSchema,
  eventsLastSecond: z.number(),
});
const shadowEvent = { ...event, kind: 'shadow_event', eventsLastSecond: 3 };

type Schema = { safeParse(v: unknown): { success: boolean } };
const cases: Array<[MessageCodec<unknown>, Schema, object]> = [
  [DeliverJobMessage, DeliverJobSchema, job],
  [TimerMessage, TimerSchema, timer],
  [MatchEventMessage, MatchEventSchema, event],
  [ShadowEventMessage, ShadowEventSchema, shadowEvent],
];

/** Every path to a member of `value` (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const out: Array<Array<string | number>> = [];
  for (const [k, v] of Object.entries(value)) {
    const key = Array.isArray(value) ? Number(k) : k;
    out.push([...prefix, key], ...paths(v, [...prefix, key]));
  }
  return out;
}

/** A deep copy of `value` with the member at `path` removed (`remove`) or set to `replacement`. */
function mutate(
  value: unknown,
  path: Array<string | number>,
  remove: boolean,
  replacement: unknown,
): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = replacement;
  return copy;
}

const odd = fc.oneof(
  jsonish,
  fc.constantFrom(undefined, NaN, Infinity, -Infinity, 2, 'event', 'track', 'x', [], {}, new Date(0)),
);

function agrees(
  t: { pass(m: string): void },
  codec: MessageCodec<unknown>,
  schema: Schema,
  valid: object,
): void {
  const all = paths(valid);
  fc.assert(
    fc.property(fc.constantFrom(...all), fc.boolean(), odd, (path, remove, replacement) => {
      const bytes = packr.pack(mutate(valid, path, remove, replacement));
      const accepted = schema.safeParse(packr.unpack(bytes)).success;
      let decoded = true;
      try {
        codec.decode(bytes);
      } catch (err) {
        decoded = false;
        if ((err as { code?: string }).code !== BusCodes.DECODE) throw err;
      }
      return decoded === accepted;
    }),
    fuzzParams(2_000),
  );
  t.pass(`${codec.name}: decode accepts exactly what the schema accepts`);
}

void t.test('a trusted shape accepts nothing its schema refuses', (t) => {
  for (const [codec, schema, valid] of cases) agrees(t, codec, schema, valid);
  t.end();
});

void t.test('a valid message is trusted as decoded (zod would strip an unknown member)', (t) => {
  for (const [codec, , valid] of cases) {
    const decoded = codec.decode(packr.pack({ ...valid, extra: 1 })) as Record<string, unknown>;
    t.equal(decoded.extra, 1, `${codec.name}: not re-parsed`);
  }
  t.end();
});

void t.test('a corrupt message still gets the schema reason', (t) => {
  t.throws(() => DeliverJobMessage.decode(packr.pack({ ...job, payload: 'x' })), {
    code: BusCodes.DECODE,
    message: /deliver\.job: payload: /,
  });
  t.throws(
    () => MatchEventMessage.decode(packr.pack({ ...event, event: { ...event.event, type: 'nope' } })),
    {
      code: BusCodes.DECODE,
      message: /match\.event: event\.type: /,
    },
  );
  t.throws(() => TimerMessage.decode(packr.pack({ ...timer, deliver: { ...job, stepKey: {} } })), {
    code: BusCodes.DECODE,
    message: /timer: deliver\.stepKey\.journeyId: /,
  });
  t.end();
});
