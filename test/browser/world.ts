// The world the console's browser tests drive: a real nats-server, a local HTTP sink as the
// destination (it refuses one user's deliveries until told otherwise), `cairn up` with the
// admin service and the console, a published journey with a hold and a send, and Debian's
// Chromium through playwright-core.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { waitUntil } from '../helpers/bus.js';
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js';
import { freePort, withNats } from '../helpers/nats-server.js';
import { cairnBin, startUpBin, type UpProcess } from '../integration/cli/bin.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export const WRITE_TOKEN = 'tok-write-0123456789abcdef';
export const READ_TOKEN = 'tok-read-0123456789abcdef';
export const WRITE_KEY = 'wk_browser';
/** The user whose deliveries the sink refuses (HTTP 400, final: straight to the DLQ). */
export const REFUSED_USER = 'u-refused';

export const JOURNEY_ID = 'checkout-nudge';
export const JOURNEY = `id: ${JOURNEY_ID}
name: Checkout nudge
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  - event: account_deleted
steps:
  - id: wait-for-purchase
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 2s, next: nudge }
  - { id: nudge, type: send, to: [sink], event: Cart Abandoned, next: done }
  - { id: thanks, type: send, to: [sink], event: Thanks For Your Order }
  - { id: done, type: exit }
`;

export interface World {
  adminUrl: string;
  ingestUrl: string;
  sink: HttpSink;
  /** Whether the sink refuses REFUSED_USER's deliveries (true at the start). */
  refuse: { on: boolean };
  up: UpProcess;
  /** GET an admin API path with a token; the parsed body. */
  get<T>(path: string, token?: string): Promise<T>;
  /** Sends track events through ingest's HTTP API (Segment's batch). */
  track(
    events: Array<{ userId: string; event: string; properties?: Record<string, unknown> }>,
  ): Promise<void>;
}

export async function startWorld(t: Teardownable): Promise<World> {
  const nats = await withNats(t);
  const refuse = { on: true };
  const sink = await startHttpSink((req) => {
    const body = req.body as { userId?: string } | undefined;
    return refuse.on && body?.userId === REFUSED_USER ? 400 : 200;
  });
  t.teardown(() => sink.close());
  const dir = await mkdtemp(join(tmpdir(), 'cairn-browser-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'sink.yaml'), `id: sink\ntype: webhook\nurl: ${sink.url}/hook\ntimeout: 2s\n`);
  await writeFile(join(dir, 'journey.yaml'), JOURNEY);
  const adminPort = await freePort();
  const env = {
    NATS_URL: nats.url,
    CAIRN_WRITE_KEYS: WRITE_KEY,
    CAIRN_ADMIN_PORT: String(adminPort),
    CAIRN_ADMIN_TOKENS: `ops:write:${WRITE_TOKEN},viewer:read:${READ_TOKEN}`,
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
  };
  for (const args of [
    ['destination', 'put', join(dir, 'sink.yaml')],
    ['journey', 'publish', join(dir, 'journey.yaml')],
  ]) {
    const r = await cairnBin(args, env);
    if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  }
  const up = await startUpBin(env);
  t.teardown(() => up.stop());
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const ingestUrl = `http://127.0.0.1:${up.httpPort}`;

  const get = async <T>(path: string, token = WRITE_TOKEN): Promise<T> => {
    const res = await fetch(`${adminUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body}`);
    return JSON.parse(body) as T;
  };
  await waitUntil(
    async () => {
      try {
        await get('/journeys');
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    `the admin service at ${adminUrl}\n${up.stderr()}`,
  );
  let n = 0;
  const track: World['track'] = async (events) => {
    const res = await fetch(`${ingestUrl}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        batch: events.map((e) => ({ type: 'track', messageId: `browser-${++n}`, ...e })),
      }),
    });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  };
  return { adminUrl, ingestUrl, sink, refuse, up, get, track };
}

/** Debian's Chromium (CAIRN_CHROMIUM overrides the path), headless, with a fresh profile (playwright
 * makes one per launch and removes it). */
export async function launchBrowser(t: Teardownable): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** A laptop-sized page, its console errors collected. */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 820 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(20_000);
  return page;
}

/** Enters a token at the console's gate. */
export async function signIn(page: Page, adminUrl: string, token: string): Promise<void> {
  await page.goto(`${adminUrl}/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
