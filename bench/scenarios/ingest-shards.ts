// Scenario: ingest shards (CAIRN_INGEST_SHARDS). A backlog of track events (many users, no alias)
// is stored in EVENTS first; then S ingest processes (one forked worker per shard, S = 1 then 2,
// alternating) route it to MATCH (no matcher runs: the routed events stay there). Reports the
// drain rate and the CPU per event of the ingest processes and of nats-server, for each S: every
// shard reads (parses, resolves) every event and routes only its partitions' share, so the
// processes' CPU per event grows with S while the routing work per process shrinks. The drain time
// includes the workers' start; their CPU is counted from ready on.
import { STREAMS } from '../../libs/bus/index.js';
import { startRig } from '../cairn.js';
import { startWorker, type Worker } from '../child.js';
import { processCpuMs, waitFor } from '../env.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';

const PARTITIONS = 16;

interface Run {
  shards: number;
  eventsPerSecond: number;
  processCpuUsPerEvent: number;
  serverCpuUsPerEvent: number;
}

async function drain(o: BenchOptions, shards: number, events: number): Promise<Run> {
  const rig = await startRig({
    CAIRN_PARTITIONS: String(PARTITIONS),
    CAIRN_INGEST_SHARDS: String(shards),
    CAIRN_INGEST_DEDUPE_WINDOW: '24h',
  });
  const workers: Worker[] = [];
  try {
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < events; i++) {
      const body = JSON.stringify({
        type: 'track',
        event: 'shard_bench',
        userId: `s${i % 5_000}`,
        messageId: `s${i}`,
        properties: { i },
      });
      const p = rig.bus.js.publish('events.track', body);
      pending.add(p);
      void p.finally(() => pending.delete(p)).catch(() => undefined);
      if (pending.size >= 512) await Promise.race(pending);
    }
    await Promise.all(pending);
    const serverBefore = processCpuMs(rig.server.pid());
    const t0 = Date.now();
    // A worker's CPU from ready on: its start (loading modules, provisioning) is not per event.
    let workerCpuMs = 0;
    for (let s = 0; s < shards; s++) {
      const w = await startWorker({
        env: { ...rig.env, BENCH_SERVICES: 'ingest', CAIRN_INGEST_SHARD: String(s) },
        cpuProfDir: o.cpuProfDir,
      });
      workers.push(w);
      workerCpuMs -= (await w.stats()).cpuMs;
    }
    const routed = async (): Promise<boolean> =>
      (await rig.bus.jsm.streams.info(STREAMS.MATCH)).state.messages >= events;
    if (!(await waitFor(routed, 300_000, 100)))
      throw new Error(`ingest-shards: S=${shards} did not route ${events}`);
    const elapsedMs = Date.now() - t0;
    const serverCpuMs = processCpuMs(rig.server.pid()) - serverBefore;
    for (const w of workers) workerCpuMs += (await w.stats()).cpuMs;
    const run = {
      shards,
      eventsPerSecond: Math.round((events * 1_000) / elapsedMs),
      processCpuUsPerEvent: Math.round((workerCpuMs * 1_000) / events),
      serverCpuUsPerEvent: Math.round((serverCpuMs * 1_000) / events),
    };
    o.note(`ingest-shards S=${shards}: ${JSON.stringify(run)}`);
    return run;
  } finally {
    for (const w of workers) await w.stop();
    await rig.close();
  }
}

export async function ingestShards(o: BenchOptions): Promise<ScenarioResult> {
  const events = o.quick ? 5_000 : 20_000;
  const rounds = o.quick ? 1 : 2;
  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) for (const s of [1, 2]) runs.push(await drain(o, s, events));
  const best = (s: number): Run =>
    runs.filter((r) => r.shards === s).sort((a, b) => b.eventsPerSecond - a.eventsPerSecond)[0]!;
  const one = best(1);
  const two = best(2);
  const line = (r: Run): string =>
    `S=${r.shards}: ${r.eventsPerSecond} events/s, ${r.processCpuUsPerEvent} µs ingest + ${r.serverCpuUsPerEvent} µs nats-server CPU per event`;
  return {
    name: 'ingest-shards',
    figure: two.eventsPerSecond,
    unit: 'events/s (2 shards)',
    extra: `${line(one)}; ${line(two)}; 2 shards / 1: ${(two.eventsPerSecond / one.eventsPerSecond).toFixed(2)}x (a backlog of ${events} drained)`,
    details: { events, partitions: PARTITIONS, runs },
  };
}
