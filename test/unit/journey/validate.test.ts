/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   the rows mutate parsed documents freely, as an author would edit them. */
import t from 'tap';
import { parse } from 'yaml';
import {
  assertValidJourney,
  JourneyCodes,
  JourneyError,
  journeyDocumentSchema,
  validateJourney,
  type Limits,
  type ValidationIssue,
} from '../../../libs/journey/index.js';
import { CART_ABANDONMENT, OTHER_STEPS } from './fixtures.js';

type Doc = Record<string, any>;
const cart = (): Doc => parse(CART_ABANDONMENT) as Doc;
const other = (): Doc => parse(OTHER_STEPS) as Doc;

void t.test('the DESIGN.md cart-abandonment journey validates and normalizes', (t) => {
  const result = validateJourney(cart());
  t.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  if (!result.ok) return t.end();
  t.same(result.warnings, []);
  const j = result.journey;
  t.same(j.entry, { mode: 'every_time', uniqueBy: 'properties.cart_id' });
  t.same(j.trigger.where, [
    { path: 'properties.currency', op: 'in', value: ['USD', 'EUR'] },
    { path: 'properties.channel', op: 'eq', value: 'web' },
  ]);
  t.same(j.exit.rules, [
    { event: 'account_deleted', where: [], sameKey: false },
    { event: 'order_refunded', where: [], sameKey: true },
  ]);
  const hold = j.steps[0];
  t.equal(hold?.type, 'hold_until');
  if (hold?.type !== 'hold_until') return t.end();
  t.equal(hold.lookback, 30_000);
  t.same(hold.timeout, { after: 3_600_000, next: 'nudge' });
  t.same(hold.branches[0], { id: 'cart-updated', event: 'cart_modified', where: [], restart: true });
  t.equal(hold.branches[1]?.next, 'thanks');
  t.match(j.steps[1], {
    type: 'send',
    event: 'Cart Abandoned',
    traits: [],
    payload: { email: 'profile.traits.email' },
  });
  t.same(j.events?.purchase_completed?.carries, [
    'type',
    'event',
    'userId',
    'properties.cart_id',
    'properties.total',
  ]);
  t.end();
});

void t.test('the other DESIGN.md step types validate and normalize', (t) => {
  const result = validateJourney(other());
  t.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  if (!result.ok) return t.end();
  const [day, appt, route, ab, vip, big] = result.journey.steps;
  t.same(day, { type: 'delay', id: 'wait-a-day', after: 86_400_000, next: 'before-appt' });
  t.same(appt, {
    type: 'delay',
    id: 'before-appt',
    until: 'entry.properties.appointment_at',
    offset: -3_600_000,
    next: 'route',
  });
  t.match(route, { type: 'data_split', else: 'ab' });
  t.match(ab, { type: 'random_split', sticky: true });
  t.equal(vip?.type === 'send' && vip.event, 'vip-send', 'send event defaults to the step id');
  t.equal(big?.type === 'send' && big.event, 'Big cart', '... or to the step name');
  t.same(result.journey.exit, { rules: [] });
  t.end();
});

void t.test('defaults: entry, exit and steps may be left out; object-form exit', (t) => {
  const result = validateJourney({
    id: 'forward',
    name: 'Forward',
    description: 'real-time forwarding',
    trigger: { event: 'signed_up' },
    entry: { mode: 'once' },
    exit: { rules: [{ event: 'deleted' }], send: { to: ['crm'], payload: { who: 'profile.traits.email' } } },
  });
  t.ok(result.ok);
  if (!result.ok) return t.end();
  t.same(result.journey.steps, []);
  t.equal(result.journey.description, 'real-time forwarding');
  t.same(result.journey.exit.send, {
    to: ['crm'],
    event: 'Journey Exited',
    payload: { who: 'profile.traits.email' },
    traits: [],
  });
  const noEntry = validateJourney({ id: 'x', name: 'X', trigger: { event: 'e' } });
  t.notOk(noEntry.ok, 'every_time is the default and needs uniqueBy');
  t.match(!noEntry.ok && noEntry.errors, [{ code: JourneyCodes.MISSING_FIELD, path: 'entry.uniqueBy' }]);
  t.end();
});

void t.test('exclusive hold branches on one event validate', (t) => {
  const doc = cart();
  doc.steps[0].branches.push({
    id: 'free-order',
    event: 'purchase_completed',
    where: { 'properties.total': { lt: 1 } },
    next: 'end',
  });
  const result = validateJourney(doc);
  t.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  t.end();
});

interface Row {
  name: string;
  base?: () => Doc;
  mutate: (d: Doc) => void;
  limits?: Partial<Limits>;
  code: string;
  path: string;
  message: RegExp;
  hint?: RegExp;
}

const rows: Row[] = [
  {
    name: 'missing field',
    mutate: (d) => delete d.name,
    code: 'MISSING_FIELD',
    path: 'name',
    message: /'name' is required/,
  },
  {
    name: 'missing nested field',
    mutate: (d) => delete d.steps[0].timeout,
    code: 'MISSING_FIELD',
    path: 'steps[0].timeout',
    message: /'timeout' is required/,
  },
  {
    name: 'missing step type',
    mutate: (d) => delete d.steps[3].type,
    code: 'MISSING_FIELD',
    path: 'steps[3].type',
    message: /'type' is required/,
  },
  {
    name: 'wrong type',
    mutate: (d) => (d.steps[1].to = 'crm-webhook'),
    code: 'WRONG_TYPE',
    path: 'steps[1].to',
    message: /expected a list, got the text "crm-webhook"/,
  },
  {
    name: 'a step that is not an object',
    mutate: (d) => (d.steps[3] = 'end'),
    code: 'WRONG_TYPE',
    path: 'steps[3]',
    message: /a step must be an object/,
  },
  {
    name: 'wrong duration type',
    mutate: (d) => (d.steps[0].timeout.after = true),
    code: 'WRONG_TYPE',
    path: 'steps[0].timeout.after',
    message: /expected a duration/,
  },
  {
    name: 'unknown key in a step',
    mutate: (d) => {
      d.steps[1].nxt = d.steps[1].next;
      delete d.steps[1].next;
    },
    code: 'UNKNOWN_KEY',
    path: 'steps[1].nxt',
    message: /unknown key 'nxt'/,
    hint: /did you mean 'next'\?/,
  },
  {
    name: 'unknown key at the top',
    mutate: (d) => (d.trigers = d.trigger),
    code: 'UNKNOWN_KEY',
    path: 'trigers',
    message: /unknown key 'trigers'/,
    hint: /did you mean 'trigger'\?/,
  },
  {
    name: 'unknown key in a hold branch',
    mutate: (d) => (d.steps[0].branches[1].wher = {}),
    code: 'UNKNOWN_KEY',
    path: 'steps[0].branches[1].wher',
    message: /unknown key/,
    hint: /did you mean 'where'\?/,
  },
  {
    name: 'bad journey id',
    mutate: (d) => (d.id = 'Cart Abandonment'),
    code: 'BAD_ID',
    path: 'id',
    message: /"Cart Abandonment" is not a valid journey id/,
    hint: /e\.g\. 'cart-abandonment'/,
  },
  {
    name: 'bad branch id',
    mutate: (d) => (d.steps[0].branches[0].id = 'cart updated!'),
    code: 'BAD_ID',
    path: 'steps[0].branches[0].id',
    message: /not a valid branch id/,
  },
  {
    name: 'bad enum value',
    mutate: (d) => (d.entry.mode = 'every-time'),
    code: 'BAD_VALUE',
    path: 'entry.mode',
    message: /"every-time" is not allowed/,
    hint: /did you mean 'every_time'\?/,
  },
  {
    name: 'uniqueBy in a once journey',
    mutate: (d) => (d.entry.mode = 'once'),
    code: 'BAD_VALUE',
    path: 'entry.uniqueBy',
    message: /uniqueBy applies only to mode every_time/,
  },
  {
    name: 'empty text',
    mutate: (d) => (d.steps[1].event = ''),
    code: 'EMPTY',
    path: 'steps[1].event',
    message: /must not be empty/,
  },
  {
    name: 'empty branch list',
    mutate: (d) => (d.steps[0].branches = []),
    code: 'EMPTY',
    path: 'steps[0].branches',
    message: /list must not be empty/,
  },
  {
    name: 'bad path',
    mutate: (d) => (d.entry.uniqueBy = 'properties..cart_id'),
    code: 'BAD_PATH',
    path: 'entry.uniqueBy',
    message: /not a dotted path/,
  },
  {
    name: 'bad condition path',
    mutate: (d) => (d.trigger.where['properties.'] = 1),
    code: 'BAD_PATH',
    path: 'trigger.where["properties."]',
    message: /not a dotted path/,
  },
  {
    name: 'unknown step type',
    mutate: (d) => (d.steps[3].type = 'exitt'),
    code: 'UNKNOWN_STEP_TYPE',
    path: 'steps[3].type',
    message: /"exitt" is not a step type/,
    hint: /did you mean 'exit'\?/,
  },
  {
    name: 'bad duration',
    mutate: (d) => (d.steps[0].timeout.after = '1 hour'),
    code: 'BAD_DURATION',
    path: 'steps[0].timeout.after',
    message: /"1 hour" is not a duration/,
    hint: /30s, 5m, 2h, 7d/,
  },
  {
    name: 'duration too long',
    mutate: (d) => (d.steps[0].timeout.after = '183d'),
    code: 'DURATION_OUT_OF_RANGE',
    path: 'steps[0].timeout.after',
    message: /26w1d is out of range: .* between 1s and 26w/,
  },
  {
    name: 'duration too short',
    mutate: (d) => (d.steps[0].lookback = '500ms'),
    code: 'DURATION_OUT_OF_RANGE',
    path: 'steps[0].lookback',
    message: /500ms is out of range/,
  },
  {
    name: 'offset too large',
    base: other,
    mutate: (d) => (d.steps[1].offset = '-200d'),
    code: 'DURATION_OUT_OF_RANGE',
    path: 'steps[1].offset',
    message: /at most 26w either way/,
  },
  {
    name: 'unknown condition operator',
    mutate: (d) => (d.trigger.where['properties.total'] = { gtee: 5 }),
    code: 'BAD_CONDITION',
    path: 'trigger.where["properties.total"].gtee',
    message: /'gtee' is not a condition operator/,
    hint: /did you mean 'gte'\?/,
  },
  {
    name: 'operator with a wrong operand',
    mutate: (d) => (d.trigger.where['properties.currency'] = { in: 'USD' }),
    code: 'BAD_CONDITION',
    path: 'trigger.where["properties.currency"].in',
    message: /'in' takes a list of values/,
  },
  {
    name: 'empty operator object',
    mutate: (d) => (d.exit[0].where = { 'properties.reason': {} }),
    code: 'BAD_CONDITION',
    path: 'exit[0].where["properties.reason"]',
    message: /has no operator/,
  },
  {
    name: 'delay with after and until',
    base: other,
    mutate: (d) => (d.steps[0].until = 'entry.properties.at'),
    code: 'DELAY_AFTER_OR_UNTIL',
    path: 'steps[0]',
    message: /not both/,
  },
  {
    name: 'delay with neither',
    base: other,
    mutate: (d) => delete d.steps[0].after,
    code: 'DELAY_AFTER_OR_UNTIL',
    path: 'steps[0]',
    message: /needs after or until/,
  },
  {
    name: 'offset with after',
    base: other,
    mutate: (d) => (d.steps[0].offset = '1h'),
    code: 'DELAY_AFTER_OR_UNTIL',
    path: 'steps[0].offset',
    message: /offset applies only/,
  },
  {
    name: 'event declaration with neither carries nor example',
    mutate: (d) => (d.events.cart_modified = {}),
    code: 'EVENT_DECLARATION',
    path: 'events.cart_modified',
    message: /carries or example, exactly one/,
  },
  {
    name: 'unknown step reference',
    mutate: (d) => (d.steps[1].next = 'ned'),
    code: 'UNKNOWN_STEP',
    path: 'steps[1].next',
    message: /no step has the id 'ned'/,
    hint: /did you mean 'end'\? step ids: wait-for-purchase, nudge, thanks, end/,
  },
  {
    name: 'unknown timeout step',
    mutate: (d) => (d.steps[0].timeout.next = 'nowhere'),
    code: 'UNKNOWN_STEP',
    path: 'steps[0].timeout.next',
    message: /no step has the id 'nowhere'/,
    hint: /step ids: /,
  },
  {
    name: 'unknown else step',
    base: other,
    mutate: (d) => (d.steps[2].else = 'abc'),
    code: 'UNKNOWN_STEP',
    path: 'steps[2].else',
    message: /'abc'/,
  },
  {
    name: 'next to an earlier step',
    mutate: (d) => (d.steps[1].next = 'wait-for-purchase'),
    code: 'CYCLE',
    path: 'steps[1].next',
    message: /'wait-for-purchase' is an earlier step \(steps\[0\]\): cycles are refused/,
    hint: /restart: true/,
  },
  {
    name: 'next to itself',
    base: other,
    mutate: (d) => (d.steps[4].next = 'vip-send'),
    code: 'CYCLE',
    path: 'steps[4].next',
    message: /points to its own step/,
  },
  {
    name: 'duplicate step id',
    mutate: (d) => (d.steps[2].id = 'nudge'),
    code: 'DUPLICATE_STEP_ID',
    path: 'steps[2].id',
    message: /'nudge' is already used by steps\[1\]/,
  },
  {
    name: 'duplicate branch id across steps',
    base: other,
    mutate: (d) => (d.steps[3].branches[0].id = 'vip'),
    code: 'DUPLICATE_BRANCH_ID',
    path: 'steps[3].branches[0].id',
    message: /'vip' is already used in step 'route'/,
  },
  {
    name: 'unreachable step',
    base: other,
    mutate: (d) => (d.steps[2].else = 'vip-send'),
    code: 'UNREACHABLE_STEP',
    path: 'steps[3]',
    message: /step 'ab' can never be reached/,
  },
  {
    name: 'overlapping hold branches (subset conditions)',
    mutate: (d) =>
      d.steps[0].branches.push({
        id: 'big-purchase',
        event: 'purchase_completed',
        where: { 'properties.total': { gte: 100 } },
        next: 'thanks',
      }),
    code: 'HOLD_BRANCHES_OVERLAP',
    path: 'steps[0].branches[2]',
    message: /'purchased' and 'big-purchase' can both match one 'purchase_completed' event/,
  },
  {
    name: 'overlapping hold branches (both unconditional)',
    mutate: (d) => d.steps[0].branches.push({ id: 'again', event: 'cart_modified', next: 'nudge' }),
    code: 'HOLD_BRANCHES_OVERLAP',
    path: 'steps[0].branches[2]',
    message: /'cart-updated' and 'again'/,
  },
  {
    name: 'restart branch with next',
    mutate: (d) => (d.steps[0].branches[0].next = 'nudge'),
    code: 'RESTART_WITH_NEXT',
    path: 'steps[0].branches[0].next',
    message: /restarts the hold/,
  },
  {
    name: 'weights not summing to 100',
    base: other,
    mutate: (d) => (d.steps[3].branches[1].weight = 40),
    code: 'WEIGHTS_SUM',
    path: 'steps[3].branches',
    message: /add up to 90, not 100/,
  },
  {
    name: 'non-positive weight',
    base: other,
    mutate: (d) => {
      d.steps[3].branches[0].weight = 100;
      d.steps[3].branches[1].weight = 0;
    },
    code: 'WEIGHT_NOT_POSITIVE',
    path: 'steps[3].branches[1].weight',
    message: /weight 0/,
  },
  {
    name: 'too many steps',
    mutate: () => undefined,
    limits: { maxSteps: 3 },
    code: 'TOO_MANY_STEPS',
    path: 'steps',
    message: /4 steps; the limit is 3/,
  },
  {
    name: 'journey name too long',
    mutate: (d) => (d.name = 'n'.repeat(74)),
    code: 'NAME_TOO_LONG',
    path: 'name',
    message: /74 characters long; the limit is 73/,
  },
  {
    name: 'send event name too long',
    mutate: (d) => (d.steps[1].event = 'e'.repeat(74)),
    code: 'NAME_TOO_LONG',
    path: 'steps[1].event',
    message: /send event name is 74/,
  },
  {
    name: 'step name too long',
    mutate: (d) => (d.steps[3].name = 's'.repeat(80)),
    code: 'NAME_TOO_LONG',
    path: 'steps[3].name',
    message: /step name is 80/,
  },
  {
    name: 'too many hold branches',
    mutate: () => undefined,
    limits: { maxHoldBranches: 1 },
    code: 'TOO_MANY_BRANCHES',
    path: 'steps[0].branches',
    message: /at most 1 branches, this one has 2/,
  },
  {
    name: 'too many random split branches',
    base: other,
    mutate: (d) => {
      d.steps[3].branches = [10, 20, 30, 20, 10, 10].map((weight, i) => ({
        id: `r${i}`,
        weight,
        next: 'send-a',
      }));
    },
    code: 'TOO_MANY_BRANCHES',
    path: 'steps[3].branches',
    message: /random_split step has at most 5 branches, this one has 6/,
  },
  {
    name: 'too many exit rules',
    mutate: () => undefined,
    limits: { maxExitRules: 1 },
    code: 'TOO_MANY_EXIT_RULES',
    path: 'exit',
    message: /2 exit rules; the limit is 1/,
  },
  {
    name: 'no destination',
    mutate: (d) => (d.steps[1].to = []),
    code: 'DESTINATION_COUNT',
    path: 'steps[1].to',
    message: /1 to 5 destinations, this one lists 0/,
  },
  {
    name: 'too many destinations',
    mutate: (d) => (d.steps[2].to = ['a', 'b', 'c', 'd', 'e', 'f']),
    code: 'DESTINATION_COUNT',
    path: 'steps[2].to',
    message: /lists 6/,
  },
  {
    name: 'a destination id longer than a destination id can be',
    mutate: (d) => (d.steps[2].to = ['crm', 'd'.repeat(65)]),
    code: 'BAD_ID',
    path: 'steps[2].to[1]',
    message: /65 characters long; a destination id has at most 64/,
  },
  {
    name: 'too many payload mappings',
    mutate: () => undefined,
    limits: { maxPayloadMappings: 1 },
    code: 'TOO_MANY_PAYLOAD_MAPPINGS',
    path: 'steps[1].payload',
    message: /maps 2 keys; the limit is 1/,
  },
  {
    name: 'uniqueBy too long',
    mutate: (d) => (d.entry.uniqueBy = `properties.${'k'.repeat(500)}`),
    code: 'UNIQUE_BY_TOO_LONG',
    path: 'entry.uniqueBy',
    message: /511 characters long; the limit is 500/,
  },
  {
    name: 'sameKey in a once journey',
    mutate: (d) => (d.entry = { mode: 'once' }),
    code: 'SAME_KEY_IN_ONCE',
    path: 'exit[1].sameKey',
    message: /once journey has no instance key/,
  },
  {
    name: 'payload path outside the context',
    mutate: (d) => (d.steps[1].payload.email = 'traits.email'),
    code: 'NOT_A_CONTEXT_PATH',
    path: 'steps[1].payload.email',
    message: /'traits.email' does not start at a context root/,
    hint: /profile\.traits/,
  },
  {
    name: 'delay until outside the context',
    base: other,
    mutate: (d) => (d.steps[1].until = 'entri.properties.appointment_at'),
    code: 'NOT_A_CONTEXT_PATH',
    path: 'steps[1].until',
    message: /did you mean 'entry'/,
  },
  {
    name: 'delay until a whole root',
    base: other,
    mutate: (d) => (d.steps[1].until = 'entry'),
    code: 'NOT_A_CONTEXT_PATH',
    path: 'steps[1].until',
    message: /names a whole context root/,
  },
  {
    name: 'data split condition outside the context',
    base: other,
    mutate: (d) => (d.steps[2].branches[1].where = { 'properties.total': { gte: 100 } }),
    code: 'NOT_A_CONTEXT_PATH',
    path: 'steps[2].branches[1].where["properties.total"]',
    message: /data split condition/,
  },
  {
    name: 'unknown profile field',
    base: other,
    mutate: (d) => (d.steps[2].branches[0].where = { 'profile.trait.plan': 'pro' }),
    code: 'NOT_A_CONTEXT_PATH',
    path: 'steps[2].branches[0].where["profile.trait.plan"]',
    message: /profile has only traits, audiences/,
  },
  {
    name: 'exit send without rules',
    mutate: (d) => (d.exit = { send: { to: ['crm-webhook'] } }),
    code: 'EXIT_SEND_WITHOUT_RULES',
    path: 'exit.send',
    message: /no exit rules/,
  },
  {
    name: 'hold event that does not carry uniqueBy',
    mutate: (d) => (d.events.cart_modified.carries = ['properties.total']),
    code: 'UNIQUE_BY_NOT_CARRIED',
    path: 'steps[0].branches[0].event',
    message: /'cart_modified' \(hold branch 'cart-updated'\) does not carry properties.cart_id/,
  },
  {
    name: 'sameKey exit event that does not carry uniqueBy',
    mutate: (d) => (d.events.order_refunded = { example: { properties: { order_id: 'o-1' } } }),
    code: 'UNIQUE_BY_NOT_CARRIED',
    path: 'exit[1].event',
    message: /'order_refunded' \(a sameKey exit rule\)/,
  },
  {
    name: 'declared trigger event that does not carry uniqueBy',
    mutate: (d) => (d.events.checkout_started = { carries: ['properties.total'] }),
    code: 'UNIQUE_BY_NOT_CARRIED',
    path: 'trigger.event',
    message: /trigger event/,
  },
];

void t.test('one row per error code: code, path, message and hint', (t) => {
  for (const row of rows) {
    const doc = (row.base ?? cart)();
    row.mutate(doc);
    const result = validateJourney(doc, row.limits ? { limits: row.limits } : {});
    t.notOk(result.ok, `${row.name}: refused`);
    const errors = result.ok ? [] : result.errors;
    const code = (JourneyCodes as Record<string, string>)[row.code];
    const found = errors.find((e) => e.code === code && e.path === row.path);
    t.ok(found, `${row.name}: ${code} at ${row.path} in ${JSON.stringify(errors)}`);
    if (!found) continue;
    t.equal(found.severity, 'error');
    t.match(found.message, row.message, `${row.name}: message`);
    t.ok(found.hint.length > 10, `${row.name}: has a hint`);
    if (row.hint) t.match(found.hint, row.hint, `${row.name}: hint`);
  }
  t.end();
});

void t.test('every error code except the thrown-only ones has a row', (t) => {
  const covered = new Set(rows.map((r) => r.code));
  const thrownOnly = new Set([
    'INVALID',
    'SYNTAX',
    'LIMITS_INVALID',
    'UNIQUE_BY_UNVERIFIED',
    'UNKNOWN_CONTEXT_EVENT',
  ]);
  for (const name of Object.keys(JourneyCodes)) {
    if (!thrownOnly.has(name)) t.ok(covered.has(name), `row for ${name}`);
  }
  t.end();
});

void t.test('warnings: unverified correlation and unknown context events', (t) => {
  const doc = cart();
  delete doc.events;
  doc.steps[1].payload.item = 'events.purchase.properties.sku';
  const result = validateJourney(doc);
  t.ok(result.ok, 'warnings do not block');
  const warnings: ValidationIssue[] = result.warnings;
  t.same(
    warnings.map((w) => [w.code, w.path, w.severity]),
    [
      [JourneyCodes.UNKNOWN_CONTEXT_EVENT, 'steps[1].payload.item', 'warning'],
      [JourneyCodes.UNIQUE_BY_UNVERIFIED, 'steps[0].branches[0].event', 'warning'],
      [JourneyCodes.UNIQUE_BY_UNVERIFIED, 'steps[0].branches[1].event', 'warning'],
      [JourneyCodes.UNIQUE_BY_UNVERIFIED, 'exit[1].event', 'warning'],
    ],
  );
  t.match(warnings[0]?.hint, /did you mean 'purchased'\?/);
  t.match(warnings[1]?.hint, /declare the event under events: with an example/);

  const known = cart();
  known.steps[1].payload.item = 'events.purchased.properties.sku';
  known.steps[1].payload.alias = 'events.purchase_completed - purchased.properties.sku';
  known.exit = {
    rules: known.exit,
    send: { to: ['crm'], payload: { why: 'events.order_refunded.properties' } },
  };
  const ok = validateJourney(known);
  t.ok(ok.ok);
  t.same(ok.warnings, [], 'branch ids, event names, aliases and exit events are known context names');
  t.end();
});

void t.test('a once journey skips the correlation check', (t) => {
  const doc = cart();
  doc.entry = { mode: 'once' };
  doc.exit = [{ event: 'account_deleted' }];
  delete doc.events;
  const result = validateJourney(doc);
  t.ok(result.ok);
  t.same(result.warnings, []);
  t.end();
});

void t.test('all problems are reported at once', (t) => {
  const doc = cart();
  delete doc.name; // MISSING_FIELD
  doc.trigger.where['properties.total'] = { gtee: 5 }; // BAD_CONDITION
  doc.steps[0].timeout.after = '2 hours'; // BAD_DURATION
  doc.steps[1].to = ['a', 'b', 'c', 'd', 'e', 'f']; // DESTINATION_COUNT
  doc.steps[2].next = 'nowhere'; // UNKNOWN_STEP
  doc.events.order_refunded.carries = ['properties.order_id']; // UNIQUE_BY_NOT_CARRIED
  const result = validateJourney(doc);
  t.notOk(result.ok);
  const got = (result.ok ? [] : result.errors).map((e) => `${e.code} ${e.path}`).sort();
  t.same(
    got,
    [
      `${JourneyCodes.MISSING_FIELD} name`,
      `${JourneyCodes.BAD_CONDITION} trigger.where["properties.total"].gtee`,
      `${JourneyCodes.BAD_DURATION} steps[0].timeout.after`,
      `${JourneyCodes.DESTINATION_COUNT} steps[1].to`,
      `${JourneyCodes.UNKNOWN_STEP} steps[2].next`,
      `${JourneyCodes.UNIQUE_BY_NOT_CARRIED} exit[1].event`,
    ].sort(),
  );
  t.end();
});

void t.test('a broken step does not hide problems in the others', (t) => {
  const doc = other();
  doc.steps[0].aftr = '1d'; // unknown key in step 0
  doc.steps[3].branches[1].weight = 10; // weights in step 3
  doc.steps.push({ id: 'vip-send', type: 'exit' }); // a duplicate id
  const result = validateJourney(doc);
  const got = (result.ok ? [] : result.errors).map((e) => `${e.code} ${e.path}`);
  t.same(got, [
    `${JourneyCodes.UNKNOWN_KEY} steps[0].aftr`,
    `${JourneyCodes.DUPLICATE_STEP_ID} steps[9].id`,
    `${JourneyCodes.WEIGHTS_SUM} steps[3].branches`,
  ]);
  t.end();
});

void t.test("a typo'd key does not hide an unknown step in the same step", (t) => {
  const doc = cart();
  doc.steps[0].timout = doc.steps[0].timeout; // a typo next to the real key
  doc.steps[0].timeout.next = 'nowhere'; // and a next that names no step
  doc.steps[0].branches[1].next = 'nudg'; // a branch's too
  doc.steps[1].nxt = 'x'; // a typo in a send step
  doc.steps[1].next = 'gone';
  const result = validateJourney(doc);
  const got = (result.ok ? [] : result.errors).map((e) => `${e.code} ${e.path}`).sort();
  t.same(
    got,
    [
      `${JourneyCodes.UNKNOWN_KEY} steps[0].timout`,
      `${JourneyCodes.UNKNOWN_STEP} steps[0].timeout.next`,
      `${JourneyCodes.UNKNOWN_STEP} steps[0].branches[1].next`,
      `${JourneyCodes.UNKNOWN_KEY} steps[1].nxt`,
      `${JourneyCodes.UNKNOWN_STEP} steps[1].next`,
    ].sort(),
  );
  const hint = (result.ok ? [] : result.errors).find((e) => e.path === 'steps[0].branches[1].next')?.hint;
  t.match(hint, /did you mean 'nudge'\?/);
  t.end();
});

void t.test('documents that are not objects, and bad sections', (t) => {
  for (const input of [null, [], 'journey', 3]) {
    const result = validateJourney(input);
    t.match(!result.ok && result.errors, [{ code: JourneyCodes.WRONG_TYPE, path: '' }]);
  }
  const result = validateJourney({ id: 'x', name: 'X', trigger: 'e', exit: 3, steps: {}, events: [] });
  const got = (result.ok ? [] : result.errors).map((e) => `${e.code} ${e.path}`);
  t.same(got, [
    `${JourneyCodes.WRONG_TYPE} trigger`,
    `${JourneyCodes.MISSING_FIELD} entry.uniqueBy`,
    `${JourneyCodes.WRONG_TYPE} exit`,
    `${JourneyCodes.WRONG_TYPE} events`,
    `${JourneyCodes.WRONG_TYPE} steps`,
  ]);
  const missing = validateJourney({});
  t.same(
    (missing.ok ? [] : missing.errors).map((e) => e.path),
    ['id', 'name', 'trigger', 'entry.uniqueBy'],
  );
  t.end();
});

void t.test('assertValidJourney throws a JourneyError with every issue', (t) => {
  t.equal(assertValidJourney(cart()).id, 'cart-abandonment');
  const doc = cart();
  doc.steps[1].next = 'ned';
  doc.id = 'BAD';
  try {
    assertValidJourney(doc);
    t.fail('did not throw');
  } catch (err) {
    t.ok(err instanceof JourneyError);
    const e = err as JourneyError;
    t.equal(e.code, JourneyCodes.INVALID);
    t.equal(e.issues.length, 2);
    t.match(e.message, /invalid journey: 2 error\(s\), first at id/);
  }
  t.end();
});

void t.test('limits are configurable and validated', (t) => {
  const doc = cart();
  doc.steps[0].timeout.after = '200d';
  t.notOk(validateJourney(doc).ok);
  t.ok(validateJourney(doc, { limits: { maxDuration: 365 * 86_400_000 } }).ok);
  t.throws(() => validateJourney(doc, { limits: { maxSteps: -1 } }), { code: JourneyCodes.LIMITS_INVALID });
  t.end();
});

void t.test('unknown keys deep in the document get hints from the schema at that place', (t) => {
  const doc = cart();
  doc.events.cart_modified.carris = ['x'];
  doc.exit[0].samekey = true;
  doc.steps[0].timeout.nxt = 'nudge';
  doc.steps[1].zzzzzzzz = 1;
  const exitDoc = cart();
  exitDoc.exit = { rules: exitDoc.exit, send: { to: ['crm'], paylod: {} } };
  const got = [validateJourney(doc), validateJourney(exitDoc)].flatMap((r) =>
    (r.ok ? [] : r.errors).map((e) => [e.path, e.hint]),
  );
  t.same(got, [
    ['exit[0].samekey', "did you mean 'sameKey'?"],
    ['events.cart_modified.carris', "did you mean 'carries'?"],
    ['steps[0].timeout.nxt', "did you mean 'next'?"],
    ['steps[1].zzzzzzzz', 'use the known keys: type, id, name, to, event, payload, traits, next'],
    ['exit.send.paylod', "did you mean 'payload'?"],
  ]);
  t.end();
});

void t.test('odd values: empty record keys, non-text step types', (t) => {
  const doc = cart();
  doc.events[''] = { carries: [] };
  doc.steps[3].type = 5;
  const result = validateJourney(doc);
  t.match(!result.ok && result.errors, [
    { code: JourneyCodes.BAD_VALUE, path: 'events' },
    { code: JourneyCodes.UNKNOWN_STEP_TYPE, path: 'steps[3].type', hint: /type is one of hold_until, delay/ },
  ]);
  t.throws(() => assertValidJourney(null), { message: /first at document: a journey document is an object/ });
  t.end();
});

void t.test('journeyDocumentSchema: the whole document as one zod schema', (t) => {
  const minimal = { id: 'm', name: 'M', trigger: { event: 'e' }, entry: { mode: 'once' } };
  for (const doc of [cart(), other(), minimal]) {
    const parsed = journeyDocumentSchema.safeParse(doc);
    t.ok(parsed.success);
    t.same(parsed.data, assertValidJourney(doc), 'same normalization as validateJourney');
  }
  const bad = other();
  bad.steps[0].type = 'wait';
  bad.steps[1].offset = 'soon';
  const parsed = journeyDocumentSchema.safeParse(bad);
  t.notOk(parsed.success);
  t.same(
    parsed.error?.issues.map((i) => i.path.join('.')),
    ['steps.0', 'steps.1.offset'],
  );
  t.end();
});
