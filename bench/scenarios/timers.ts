// Scenario 4: timers at scale. Pending timers spread over a day are stored in stream TIMERS,
// the timer service starts, then a burst comes due within one minute: its lateness (fired ->
// seen on match.<p>.timer, minus the instant) and the service's RSS. Then an outage: the
// service is killed, the timers a 5-minute outage leaves overdue are stored (backdated, so the
// outage costs no wall time), and the service restarts: the catch-up time.
// The watermark is written by the bench (at ingest's period, IDLE_MARGIN_MS behind the clock, as
// an idle ingest does), so that the worker runs the timer service alone and its RSS is its own.
import {
  BUCKETS,
  partitionOf,
  subjects,
  TimerMessage,
  WATERMARK_KEY,
  watermarkCodec,
  type TimerRecord,
} from '../../libs/bus/index.js';
import { IDLE_MARGIN_MS, WATERMARK_INTERVAL_MS } from '../../services/ingest/index.js';
import { startCairn, startRig } from '../cairn.js';
import type { Worker } from '../child.js';
import { waitFor } from '../env.js';
import { publishAll } from '../load.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { round, summarize } from '../stats.js';

const DAY_MS = 86_400_000;
const MB = 1024 * 1024;

function timerMessage(p: number, bucketMs: number, timer: TimerRecord) {
  return {
    subject: subjects.timerBucket(p, Math.floor(timer.at / bucketMs)),
    data: TimerMessage.encode(timer),
    msgId: timer.token,
  };
}

/** Samples the worker's RSS every 250 ms; resolves with the peak when stopped. */
function rssSampler(worker: Worker): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await worker.stats();
      peak = Math.max(peak, s.rssBytes);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

export async function timersAtScale(o: BenchOptions): Promise<ScenarioResult> {
  const pending = o.quick ? 10_000 : 1_000_000;
  const burst = o.quick ? 2_000 : 100_000;
  const burstWindowMs = o.quick ? 3_000 : 60_000;
  const backlog = o.quick ? 2_000 : 100_000;
  const rig = await startRig();
  const { bus, config } = rig;
  const P = config.partitions;
  const bucketMs = config.timerBucketMs;
  const state = await bus.kv(BUCKETS.state);
  let watermarkOn = true;
  const watermark = (async () => {
    while (watermarkOn) {
      await state.put(WATERMARK_KEY, watermarkCodec.encode({ v: 1, at: Date.now() - IDLE_MARGIN_MS }));
      await new Promise((r) => setTimeout(r, WATERMARK_INTERVAL_MS));
    }
  })();
  // Fired timers, as the matcher would receive them: lateness of the burst, counts of each kind.
  const seen = new Set<string>();
  const burstLateness: number[] = [];
  const firedOf = new Map<string, number>();
  const sub = bus.nc.subscribe('match.*.timer', {
    callback: (_err, msg) => {
      try {
        const t = TimerMessage.decode(msg.data);
        if (seen.has(t.token)) return;
        seen.add(t.token);
        const kind = t.token.split('-')[0]!;
        firedOf.set(kind, (firedOf.get(kind) ?? 0) + 1);
        if (kind === 'b') burstLateness.push(Date.now() - t.at);
      } catch {
        // Not ours.
      }
    },
  });
  const timer = (kind: string, i: number, at: number): TimerRecord => {
    const userKey = `${kind}${i}`;
    return { v: 1, kind: 'timer', journeyId: 'bench', userKey, instanceKey: 'k', token: `${kind}-${i}`, at };
  };
  const send = (kind: string, count: number, atOf: (i: number) => number): Promise<number> =>
    publishAll(bus.js, count, (i) => {
      const t = timer(kind, i, atOf(i));
      return timerMessage(partitionOf(t.userKey, P), bucketMs, t);
    });
  let worker: Worker | undefined;
  try {
    // 1. The day's pending timers (the part beyond the burst), stored before the service starts.
    const far = pending - burst;
    const t0 = Date.now();
    o.note(`timers: storing ${far} timers spread over a day`);
    const seedMs = await send(
      'd',
      far,
      (i) => t0 + 10 * 60_000 + Math.floor(((DAY_MS - 10 * 60_000) * i) / far),
    );
    worker = await startCairn(rig, ['timer'], o.cpuProfDir);
    const startedRss = (await worker.stats()).rssBytes;
    const sampler = rssSampler(worker);
    // 2. The burst: `burst` timers due within one window starting 10 s from now.
    const b0 = Date.now() + (o.quick ? 3_000 : 10_000);
    o.note(`timers: ${burst} due within ${burstWindowMs / 1000} s (${pending} pending in all)`);
    await send('b', burst, (i) => b0 + Math.floor((burstWindowMs * i) / burst));
    const burstFired = (): number => firedOf.get('b') ?? 0;
    const allBurst = await waitFor(() => burstFired() >= burst, burstWindowMs + 120_000, 100);
    const peakRss = await sampler.stop();
    const lateness = summarize(burstLateness);
    const after = await worker.stats();
    // 3. The outage: killed, the overdue timers stored, restarted.
    await worker.kill();
    worker = undefined;
    const outageMs = 5 * 60_000;
    const now = Date.now();
    o.note(`timers: outage; ${backlog} timers overdue by up to 5 min, then restart`);
    await send('o', backlog, (i) => now - outageMs + Math.floor((outageMs * i) / backlog));
    const restartAt = Date.now();
    worker = await startCairn(rig, ['timer']);
    const caughtUp = await waitFor(() => (firedOf.get('o') ?? 0) >= backlog, 300_000, 100);
    const catchUpMs = Date.now() - restartAt;
    const rssMb = round(peakRss / MB);
    const met = lateness.p99 < 250 && rssMb < 256;
    return {
      name: 'timers',
      figure: lateness.p99,
      unit: 'ms lateness p99',
      extra: `${pending} pending, ${burst} due within ${burstWindowMs / 1_000} s: p50 ${lateness.p50} ms, max ${lateness.max} ms, ${allBurst ? 'all fired' : `only ${burstFired()} fired`}; timer RSS peak ${rssMb} MB; catch-up of ${backlog} overdue after a 5-min outage ${caughtUp ? `${round(catchUpMs / 1_000)} s` : 'INCOMPLETE'}`,
      target: { text: 'lateness p99 < 250 ms with 1M pending, timer RSS < 256 MB', met },
      details: {
        pending,
        burst,
        burstWindowMs,
        backlog,
        seedMs,
        lateness,
        allBurst,
        rssAtStartMb: round(startedRss / MB),
        rssPeakMb: rssMb,
        rssAfterBurstMb: round(after.rssBytes / MB),
        cpuMsBurst: round(after.cpuMs),
        catchUpMs,
        caughtUp,
      },
    };
  } finally {
    sub.unsubscribe();
    watermarkOn = false;
    await watermark;
    await worker?.stop();
    await rig.close();
  }
}
