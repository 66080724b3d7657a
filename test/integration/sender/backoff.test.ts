// Retry delays: full-jitter exponential backoff and Retry-After.
import t from 'tap';

import { backoffCeilingMs } from '../../../services/sender/index.js';
import { backoffMs, retryAfterMs } from './helpers.js';

void t.test('backoff', (t) => {
  t.equal(
    backoffMs(1, () => 0.999999),
    999,
  );
  t.equal(
    backoffMs(3, () => 0.5),
    2_000,
  );
  t.equal(
    backoffMs(20, () => 0.999999),
    1_799_998,
    'capped at 30 min',
  );
  t.same(
    [1, 2, 3, 4, 5, 6, 10, 11, 12, 30].map((n) => backoffCeilingMs(n)),
    [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 512_000, 1_024_000, 1_800_000, 1_800_000],
    'the schedule: 1 s doubling, capped at 30 min',
  );
  t.equal(
    backoffMs(5, () => 0),
    0,
    'full jitter starts at 0',
  );
  t.end();
});

void t.test('Retry-After', (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs('3', now), 3_000);
  t.equal(retryAfterMs(['2'], now), 2_000);
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
  t.equal(retryAfterMs('99999999', now), 3_600_000, 'capped');
  t.equal(retryAfterMs(undefined, now), undefined);
  t.equal(retryAfterMs('soon', now), undefined);
  t.end();
});
