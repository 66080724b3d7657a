// The web console in a real browser against a real `cairn up` with real traffic: the graph shows
// the counts the stats API reports, a user's timeline shows their journey, a failed delivery is
// in the DLQ and its retry delivers, a draft's mistake is shown at its line, and a read-only
// token cannot publish. Each step leaves a screenshot in docs/console-*.png.
import { join } from 'node:path';

import t from 'tap';
import type { Page } from 'playwright-core';

import type { JourneyStats } from '../../libs/insight/index.js';
import { waitUntil } from '../helpers/bus.js';
import { REPO } from '../integration/cli/helpers.js';
import {
  JOURNEY,
  JOURNEY_ID,
  READ_TOKEN,
  REFUSED_USER,
  WRITE_TOKEN,
  launchBrowser,
  openPage,
  signIn,
  startWorld,
} from './world.js';

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(REPO, 'docs', `console-${name}.png`) });

void t.test('the console against cairn up', async (t) => {
  const world = await startWorld(t);
  const browser = await launchBrowser(t);
  const errors: string[] = [];
  const page = await openPage(browser, errors);

  // Traffic: six checkouts; two buyers purchase within the hold (thanks), the others time out
  // and are nudged; the sink refuses the nudge of REFUSED_USER (400: straight to the DLQ).
  const carts = ['u-1', 'u-2', 'u-3', 'u-4', 'u-5', REFUSED_USER].map((userId, i) => ({
    userId,
    event: 'checkout_started',
    properties: { cart_id: `c-${i + 1}` },
  }));
  await world.track(carts);
  await world.track(
    ['u-1', 'u-2'].map((userId, i) => ({
      userId,
      event: 'purchase_completed',
      properties: { cart_id: `c-${i + 1}` },
    })),
  );
  // 2 thanks + 3 nudges delivered; the refused one is answered 400 once.
  await world.sink.waitFor(6, 60_000);
  const stats = async () => world.get<JourneyStats>(`/journeys/${JOURNEY_ID}/stats?version=1&since=24h`);
  await waitUntil(
    async () => {
      const s = await stats();
      const nudge = s.steps.find((x) => x.stepId === 'nudge');
      return s.entered === 6 && nudge?.entered === 4 && s.active === 0;
    },
    60_000,
    'the stats to count every instance',
  );

  await t.test('the journey list and the graph show what the stats API reports', async (t) => {
    await signIn(page, world.adminUrl, WRITE_TOKEN);
    const row = page.getByTestId(`journey-${JOURNEY_ID}`);
    await row.waitFor();
    t.match(await row.innerText(), /Checkout nudge/);
    t.match(await row.innerText(), /active/);
    // Entered (24 h), at a step now, deliveries (24 h), dead-lettered: from the stats and the DLQ.
    const listed = await stats();
    const sent = listed.steps.reduce(
      (sum, s) => sum + Object.values(s.sends ?? {}).reduce((n, x) => n + x.sent, 0),
      0,
    );
    await waitUntil(
      async () => (await row.locator('td.num').first().innerText()) !== '–',
      20_000,
      'the counts',
    );
    t.same(await row.locator('td.num').allInnerTexts(), [String(listed.entered), '0', String(sent), '1']);
    t.equal(sent, 6, 'four nudges and two thanks');
    await shot(page, 'journeys');

    await row.getByRole('link', { name: 'Checkout nudge' }).click();
    const expected = await stats();
    await page.getByTestId('node-wait-for-purchase').waitFor();
    await waitUntil(
      async () => (await page.getByTestId('node-nudge').getAttribute('data-entered')) !== null,
      20_000,
      'the counts on the graph',
    );
    for (const step of expected.steps) {
      const node = page.getByTestId(`node-${step.stepId}`);
      t.equal(Number(await node.getAttribute('data-entered')), step.entered, `${step.stepId}: reached`);
      t.match(await node.textContent(), new RegExp(`${step.entered} reached`), `${step.stepId}: drawn`);
    }
    t.equal(Number(await page.getByTestId('node-trigger').getAttribute('data-entered')), expected.entered);
    const hold = expected.steps.find((s) => s.stepId === 'wait-for-purchase');
    for (const branch of ['purchased', 'timeout']) {
      const edge = page.getByTestId(`edge-wait-for-purchase-${branch}`);
      t.equal(
        Number(await edge.getAttribute('data-count')),
        hold?.branches?.[branch],
        `hold branch ${branch}`,
      );
    }
    t.same(
      [hold?.branches?.['purchased'], hold?.branches?.['timeout']],
      [2, 4],
      'two purchased, four timed out',
    );
    const nudge = expected.steps.find((s) => s.stepId === 'nudge');
    t.match(
      await page.getByTestId('node-nudge').textContent(),
      new RegExp(`${nudge?.sends?.['sink']?.sent} sent`),
    );
    t.equal(await page.getByTestId('stat-entered').innerText(), String(expected.entered));
    t.match(await page.getByTestId('source').innerText(), /id: checkout-nudge/);
    await shot(page, 'journey');

    // Keyboard: Tab from the page's last control reaches the graph's nodes, each named with its numbers.
    await page.getByRole('button', { name: 'Archive' }).focus();
    const focused = (): Promise<unknown> =>
      page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')");
    let label: unknown = null;
    for (let i = 0; i < 10 && !(typeof label === 'string' && label.startsWith('Trigger')); i++) {
      await page.keyboard.press('Tab');
      label = await focused();
    }
    t.match(label, /^Trigger checkout_started: on checkout_started\. Reached 6 \(100% of entries\)/);
    await page.keyboard.press('Tab');
    t.match(await focused(), /^Hold until wait-for-purchase: .* Reached 6/);
  });

  await t.test("a user's timeline shows their journey", async (t) => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('User id').fill('u-3');
    await page.getByRole('button', { name: 'Search' }).click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    const text = await timeline.innerText();
    t.match(text, /entered \(key c-3\)/);
    t.match(text, /waiting at wait-for-purchase/);
    t.match(text, /sent at nudge/);
    t.match(text, /delivery \S+ to sink: delivered \(http 200\)/);
    t.match(await page.getByTestId('instances').innerText(), /checkout-nudge v1/);
    await shot(page, 'user');
  });

  await t.test('a failed delivery is in the DLQ and its retry delivers', async (t) => {
    await page.getByRole('link', { name: 'Operations' }).click();
    const dlq = page.getByTestId('dlq');
    await dlq.waitFor();
    const row = dlq.locator('tbody tr').first();
    t.match(await row.innerText(), /http_400/);
    const deliveryId = await row.getAttribute('data-delivery');
    t.ok(deliveryId, 'the row names its delivery');
    await row.getByRole('button', { name: 'History' }).click();
    await page.getByText('Attempt history').waitFor();
    t.match(await page.locator('[data-testid^="dlq-history-"]').innerText(), /HTTP 400/);
    t.match(await page.getByTestId('destinations').innerText(), /sink/);
    await shot(page, 'operations');

    world.refuse.on = false;
    const before = world.sink.requests.length;
    await row.getByRole('button', { name: /^Retry record/ }).click();
    await page.getByText(/sent for delivery again/).waitFor();
    const got = await world.sink.waitFor(
      (reqs) => reqs.slice(before).some((r) => r.headers['idempotency-key'] === deliveryId),
      30_000,
    );
    t.ok(
      got.slice(before).some((r) => (r.body as { userId?: string }).userId === REFUSED_USER),
      'the refused user got their nudge',
    );
    await page.getByText('The DLQ is empty').waitFor();
  });

  await t.test('a draft with a mistake shows the error at its line', async (t) => {
    await page.getByRole('link', { name: 'Draft' }).click();
    const editor = page.getByLabel('Journey source (YAML)');
    await editor.fill(JOURNEY);
    await page.getByTestId('draft-ok').waitFor();
    // A duration that is not one, on the hold's timeout line.
    const broken = JOURNEY.replace('timeout: { after: 2s', 'timeout: { after: 2 parsecs');
    const line = broken.split('\n').findIndex((l) => l.includes('2 parsecs')) + 1;
    await editor.fill(broken);
    const problems = page.getByTestId('problems');
    await problems.waitFor();
    t.match(
      await problems.innerText(),
      new RegExp(`Line ${line}, column \\d+: "2 parsecs" is not a duration`),
    );
    t.match(await page.getByTestId(`gutter-${line}`).getAttribute('class'), /has-problem/);
    t.notMatch(await page.getByTestId(`gutter-${line - 1}`).getAttribute('class'), /has-problem/);
    await shot(page, 'draft');
  });

  await t.test('a read-only token sees no publish, and cannot publish', async (t) => {
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.getByLabel('Admin token').fill(READ_TOKEN);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('link', { name: 'Draft' }).click();
    const v2 = JOURNEY.replace('after: 2s', 'after: 3s');
    await page.getByLabel('Journey source (YAML)').fill(v2);
    await page.getByTestId('draft-ok').waitFor();
    // The console asks GET /api/v1/whoami: a read token sees no Publish button, but why.
    await page.getByTestId('publish-readonly').waitFor();
    t.match(await page.getByTestId('publish-readonly').innerText(), /read-only/);
    t.equal(await page.getByRole('button', { name: 'Publish' }).count(), 0, 'no Publish button');
    // And the API refuses the write itself.
    const refused = await fetch(`${world.adminUrl}/api/v1/journeys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${READ_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: v2 }),
    });
    t.equal(refused.status, 403);
    const detail = await world.get<{ versions: unknown[] }>(`/journeys/${JOURNEY_ID}`, READ_TOKEN);
    t.equal(detail.versions.length, 1, 'no version was published');
    await shot(page, 'read-only');
  });
  t.same(errors, [], 'no script error in the page');
});
