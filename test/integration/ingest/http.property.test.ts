// Property, through the real server: whatever body and auth a client sends to POST /v1/*, the
// answer is 200, 400 or 401 with a code documented in docs/errors.md, never a 500 or silence,
// and the server keeps answering.
import fc from 'fast-check';
import t from 'tap';

import { EVENT_TYPES } from '../../../libs/events/index.js';
import { documentedCodes, fuzzParams, requestBody } from '../../helpers/fuzz.js';
import { withIngest } from './helpers.js';

const KEY = 'wk_fuzz';
const CODES = new Set([...documentedCodes('Events'), ...documentedCodes('HTTP Tracking API')]);
const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

void t.test('any request: 200, 400 or 401 with a documented code', async (t) => {
  const h = await withIngest(t, { CAIRN_WRITE_KEYS: KEY }, { http: { port: 0 } });
  const base = `http://127.0.0.1:${h.ingest.httpPort}`;
  const auth = fc.constantFrom<Record<string, string>>(
    { authorization: basic(KEY) },
    { authorization: basic('wrong') },
    { authorization: 'Bearer x' },
    {},
  );
  const contentType = fc.constantFrom('application/json', 'text/plain', 'application/octet-stream');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...EVENT_TYPES, 'batch'),
      requestBody,
      auth,
      contentType,
      async (path, body, headers, type) => {
        const res = await fetch(`${base}/v1/${path}`, {
          method: 'POST',
          headers: { 'content-type': type, ...headers },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (![200, 400, 401].includes(res.status)) throw new Error(`status ${res.status}: ${text}`);
        const answer = JSON.parse(text) as { success?: boolean; code?: string };
        if (res.status === 200) {
          if (answer.success !== true) throw new Error(text);
        } else if (answer.code === undefined || !CODES.has(answer.code)) {
          throw new Error(`undocumented code: ${text}`);
        }
      },
    ),
    fuzzParams(40),
  );
  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200, 'the server still answers');
});
