import t from 'tap';
import { formatIssues, JourneyCodes, parseJourney } from '../../../libs/journey/index.js';
import { CART_ABANDONMENT } from './fixtures.js';

const JSON_DOC = JSON.stringify({
  id: 'welcome',
  name: 'Welcome',
  trigger: { event: 'signed_up' },
  entry: { mode: 'once' },
  steps: [
    { id: 'wait', type: 'delay', after: '5m' },
    { id: 'hello', type: 'send', to: ['crm'] },
  ],
});

void t.test('YAML text validates', (t) => {
  const result = parseJourney(CART_ABANDONMENT);
  t.ok(result.ok);
  t.end();
});

void t.test('JSON input, read as YAML (the default) or as strict JSON', (t) => {
  for (const format of [undefined, 'json', 'yaml'] as const) {
    const result = parseJourney(JSON_DOC, format ? { format } : {});
    t.ok(result.ok, String(format));
    if (result.ok) t.match(result.journey.steps, [{ after: 300_000 }, { event: 'hello' }]);
  }
  t.end();
});

void t.test('a YAML syntax error has a position', (t) => {
  const text = 'id: x\nname: X\ntrigger:\n  event: [a, b\nentry: { mode: once }\n';
  const result = parseJourney(text);
  t.notOk(result.ok);
  if (result.ok) return t.end();
  const [first] = result.errors;
  t.equal(first?.code, JourneyCodes.SYNTAX);
  t.equal(first?.path, '');
  t.type(first?.line, 'number');
  t.type(first?.column, 'number');
  t.match(first?.message, /invalid YAML: .*\(line \d+, column \d+\)/);
  t.end();
});

void t.test('duplicate YAML keys are syntax errors', (t) => {
  const result = parseJourney('id: a\nid: b\n');
  t.match(!result.ok && result.errors, [{ code: JourneyCodes.SYNTAX, line: 2, column: 1 }]);
  t.end();
});

void t.test('a JSON syntax error has a position', (t) => {
  const result = parseJourney('{\n  "id": "x",\n  "name" 1}', { format: 'json' });
  t.notOk(result.ok);
  if (result.ok) return t.end();
  t.equal(result.errors[0]?.code, JourneyCodes.SYNTAX);
  t.equal(result.errors[0]?.line, 3);
  t.equal(result.errors[0]?.column, 10);
  t.match(result.errors[0]?.message, /invalid JSON: .*\(line 3, column 10\)/);
  // Some engines name no position; the issue then has none either.
  const vague = parseJourney('{"a": tru}', { format: 'json' });
  t.match(!vague.ok && vague.errors, [{ code: JourneyCodes.SYNTAX, message: /invalid JSON/ }]);
  t.end();
});

void t.test('validation issues from YAML point at their line', (t) => {
  const text = CART_ABANDONMENT.replace('next: end\n  - { id: thanks', 'next: ned\n  - { id: thanks').replace(
    'cart_modified: { carries: [properties.cart_id, properties.total] }',
    'cart_modified: { carries: [properties.total] }',
  );
  const result = parseJourney(text);
  t.notOk(result.ok);
  if (result.ok) return t.end();
  const lines = text.split('\n');
  for (const issue of result.errors) {
    t.type(issue.line, 'number', issue.path);
    const line = lines[(issue.line ?? 0) - 1] ?? '';
    if (issue.code === JourneyCodes.UNKNOWN_STEP) t.match(line, /next: ned/);
    if (issue.code === JourneyCodes.UNIQUE_BY_NOT_CARRIED) t.match(line, /event: cart_modified/);
  }
  t.equal(result.errors.length, 2);
  const printed = formatIssues(result.errors);
  t.match(
    printed,
    /^error CAIRN_E_JOURNEY_UNKNOWN_STEP at steps\[1\]\.next \(line \d+, column \d+\): no step has the id 'ned'; hint: did you mean 'end'\?/m,
  );
  t.equal(
    formatIssues([{ code: 'C', severity: 'warning', path: '', message: 'm', hint: '' }]),
    'warning C at document: m',
  );
  t.end();
});

void t.test('warnings from YAML keep positions; the missing-node path falls back to the parent', (t) => {
  const text = CART_ABANDONMENT.replace(/events:[\s\S]*?steps:/, 'steps:');
  const result = parseJourney(text);
  t.ok(result.ok);
  t.equal(result.warnings.length, 3);
  for (const w of result.warnings) t.type(w.line, 'number');
  const missing = parseJourney('id: x\nname: X\ntrigger: { event: e }\n');
  t.match(!missing.ok && missing.errors, [{ path: 'entry.uniqueBy', line: 1, column: 1 }]);
  t.end();
});

void t.test('an empty or scalar document is refused with a position where there is a node', (t) => {
  const empty = parseJourney('');
  t.match(!empty.ok && empty.errors, [{ code: JourneyCodes.WRONG_TYPE, path: '', line: undefined }]);
  const scalar = parseJourney('\njust text');
  t.match(!scalar.ok && scalar.errors, [{ code: JourneyCodes.WRONG_TYPE, path: '', line: 2, column: 1 }]);
  t.end();
});
