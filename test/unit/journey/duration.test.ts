import t from 'tap';
import {
  DEFAULT_LIMITS,
  formatDuration,
  JourneyCodes,
  parseDuration,
  resolveLimits,
  tryParseDuration,
  validateJourney,
} from '../../../libs/journey/index.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

void t.test('parseDuration table', (t) => {
  const table: Array<[string | number, number]> = [
    ['30s', 30 * S],
    ['5m', 5 * M],
    ['2h', 2 * H],
    ['7d', 7 * D],
    ['1w', 7 * D],
    ['1h30m', 90 * M],
    ['1.5h', 90 * M],
    ['250ms', 250],
    ['-1h', -H],
    ['+2m', 2 * M],
    [' 10s ', 10 * S],
    [30, 30 * S],
    [0.5, 500],
  ];
  for (const [input, ms] of table) t.equal(parseDuration(input), ms, JSON.stringify(input));
  t.end();
});

void t.test('parseDuration refuses what is not a duration', (t) => {
  for (const input of ['', '1', '1 h', 'h', '1y', '10s5', '--1s', 'abc', Infinity, NaN]) {
    t.equal(tryParseDuration(input), undefined, JSON.stringify(input));
    t.throws(() => parseDuration(input), { code: JourneyCodes.BAD_DURATION }, JSON.stringify(input));
  }
  t.end();
});

void t.test('formatDuration', (t) => {
  const table: Array<[number, string]> = [
    [0, '0s'],
    [30 * S, '30s'],
    [90 * M, '1h30m'],
    [8 * D, '1w1d'],
    [-H, '-1h'],
    [1_500, '1s500ms'],
  ];
  for (const [ms, text] of table) {
    t.equal(formatDuration(ms), text);
    t.equal(parseDuration(text), ms, `round trip ${text}`);
  }
  t.throws(() => formatDuration(Infinity), RangeError);
  t.end();
});

void t.test('durations in a journey: 1 s to 182 d by default', (t) => {
  const journey = (after: string | number) => ({
    id: 'd',
    name: 'D',
    trigger: { event: 'e' },
    entry: { mode: 'once' },
    steps: [{ id: 'wait', type: 'delay', after }],
  });
  const table: Array<[string | number, boolean]> = [
    ['1s', true],
    [1, true],
    ['999ms', false],
    ['0s', false],
    ['182d', true],
    ['26w', true],
    ['182d1s', false],
    ['183d', false],
    [-5, false],
  ];
  for (const [after, ok] of table) {
    const result = validateJourney(journey(after));
    t.equal(result.ok, ok, JSON.stringify(after));
    if (!result.ok) {
      t.match(result.errors, [{ code: JourneyCodes.DURATION_OUT_OF_RANGE, path: 'steps[0].after' }]);
    }
  }
  t.end();
});

void t.test('limits: defaults and overrides', (t) => {
  t.equal(DEFAULT_LIMITS.maxSteps, 50);
  t.equal(DEFAULT_LIMITS.minDuration, 1_000);
  t.equal(DEFAULT_LIMITS.maxDuration, 182 * D);
  t.same(resolveLimits(), DEFAULT_LIMITS);
  t.equal(resolveLimits({ maxSteps: 10, maxExitRules: undefined }).maxSteps, 10);
  t.equal(resolveLimits({ maxSteps: 10 }).maxExitRules, 10);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ maxSteps: -1 }, /maxSteps must be a non-negative number/],
    [{ maxSteps: 'x' }, /maxSteps must be/],
    [{ nope: 1 }, /nope is not a limit/],
    [{ minDuration: 10 * D, maxDuration: D }, /minDuration is greater than maxDuration/],
  ];
  for (const [partial, message] of bad) {
    t.throws(() => resolveLimits(partial), { code: JourneyCodes.LIMITS_INVALID, message });
  }
  t.end();
});
