// Scenario 6: the HTTP Tracking API. `POST /v1/batch` with 100-event batches from a few
// concurrent clients: events/s accepted and durable (a 200 means every event of the batch is
// stored in EVENTS), p99 response time. Skipped when the API is not part of this build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Pool } from 'undici';

import { STREAMS } from '../../libs/bus/index.js';
import { startCairn, startRig } from '../cairn.js';
import { freePort, waitFor } from '../env.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { summarize } from '../stats.js';

const HTTP_MODULE = fileURLToPath(new URL('../../services/ingest/http.js', import.meta.url));
const WRITE_KEY = 'benchkey';
const BATCH = 100;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export async function ingestHttp(o: BenchOptions): Promise<ScenarioResult> {
  const name = 'ingest-http';
  if (!existsSync(HTTP_MODULE))
    return { name, figure: NaN, unit: '', skipped: 'HTTP API not present', details: {} };
  const clients = o.quick ? 4 : 8;
  const durationMs = o.quick ? 2_000 : 15_000;
  const port = await freePort();
  const rig = await startRig({
    CAIRN_HTTP_PORT: String(port),
    CAIRN_WRITE_KEYS: WRITE_KEY,
    BENCH_INGEST_HTTP: '1',
  });
  const url = `http://127.0.0.1:${port}`;
  const worker = await startCairn(rig, ['ingest']).catch(async (err: unknown) => {
    await rig.close();
    throw err;
  });
  const pool = new Pool(url, { connections: clients });
  try {
    // The worker asks startIngest for the API; a build whose ingest ignores that never listens.
    if (!(await waitFor(() => answers(url), 5_000, 100))) {
      throw new Error(`the HTTP API module exists but nothing listens on CAIRN_HTTP_PORT ${port}`);
    }
    const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
    let n = 0;
    let accepted = 0;
    let refused = 0;
    const times: number[] = [];
    const deadline = Date.now() + durationMs;
    const t0 = Date.now();
    const client = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const batch = Array.from({ length: BATCH }, () => {
          const i = n++;
          return {
            type: 'track',
            event: 'http_bench',
            userId: `h${i % 10_000}`,
            messageId: `h${i}`,
            properties: { i },
          };
        });
        const started = performance.now();
        const res = await pool.request({
          method: 'POST',
          path: '/v1/batch',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ batch }),
        });
        await res.body.dump();
        times.push(performance.now() - started);
        if (res.statusCode === 200) accepted += BATCH;
        else refused++;
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    const elapsedMs = Date.now() - t0;
    const stored = (await rig.bus.jsm.streams.info(STREAMS.EVENTS)).state.messages;
    const rt = summarize(times);
    return {
      name,
      figure: Math.round((accepted * 1_000) / elapsedMs),
      unit: 'events/s',
      extra: `POST /v1/batch x${BATCH}, ${clients} clients: p50 ${rt.p50} ms, p99 ${rt.p99} ms; ${stored} stored in EVENTS of ${accepted} accepted${refused ? `, ${refused} batches refused` : ''}`,
      details: {
        clients,
        batch: BATCH,
        durationMs: elapsedMs,
        accepted,
        refused,
        stored,
        responseMs: rt,
        worker: await worker.stats(),
      },
      ...(stored < accepted && { target: { text: 'every accepted event durable', met: false } }),
    };
  } finally {
    await pool.close();
    await worker.stop();
    await rig.close();
  }
}
