// Scenario: replicas. What one and two processes of each stage sustain on this machine, in one
// run: a forwarding journey (`trigger -> send`, each event a new user) with 1 ingest + 1 matcher +
// 1 sender process, then 2 + 2 + 2 (ingest shards, CAIRN_INSTANCES=2 for the others), alternating,
// medians over the rounds. Each configuration is measured two ways on a fresh server:
//   - stage by stage: a backlog is stored in EVENTS, then the stage's processes (forked and loaded
//     beforehand) start their services at once, alone, and drain their input into the next
//     stage's stream (nothing consumes it yet); for each stage, its rate, its processes' CPU and nats-server's CPU and
//     messages in and out (/varz) per event. Ingest's figures are what the EVENTS -> ingest ->
//     `match.<p>.event` hop costs (docs/architecture.md, "The hop decision").
//   - end to end: every stage running, a second backlog published at full speed; events/s from
//     the first publish to the last delivery at the sink.
import { STREAMS } from '../../libs/bus/index.js';
import { addWebhook, publishJourneys, startRig, type Rig } from '../cairn.js';
import { startWorker, type Worker } from '../child.js';
import { processCpuMs, waitFor } from '../env.js';
import { publishAll, type Outgoing } from '../load.js';
import type { BenchOptions, ScenarioResult } from '../scenario.js';
import { startSink, type Sink } from '../sink.js';
import { median, round } from '../stats.js';

const PARTITIONS = 16;
const STAGES = ['ingest', 'matcher', 'sender'] as const;
type Stage = (typeof STAGES)[number];

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [sink], payload: { form_id: entry.properties.form_id } }
`;

const formEvent = (n: number): Outgoing => ({
  subject: 'events.track',
  data: JSON.stringify({
    type: 'track',
    event: 'form_submitted',
    userId: `r${n}`,
    messageId: `r${n}`,
    properties: { form_id: `f${n}` },
  }),
});

export interface Cost {
  eventsPerSecond: number;
  /** The stage's processes (all replicas), µs of CPU per event. */
  processCpuUs: number;
  serverCpuUs: number;
  /** nats-server's in_msgs and out_msgs per event (/varz deltas). */
  serverMsgsIn: number;
  serverMsgsOut: number;
  /** Events the figures are taken over (all of them, unless the stage's input was partly
   * drained before its processes started). */
  measured: number;
  /** Redeliveries (naks, ack timeouts) per event on the stage's consumers; end to end: all. */
  redelivered: number;
}

export interface ReplicasRun {
  replicas: number;
  stages: Record<Stage, Cost>;
  endToEnd: Cost;
}

interface Meter {
  stop(measured: number): Promise<Omit<Cost, 'redelivered'>>;
}

const INPUT: Record<Stage, string> = {
  ingest: STREAMS.EVENTS,
  matcher: STREAMS.MATCH,
  sender: STREAMS.DELIVER,
};

/** Messages the stages' durable consumers delivered more than once so far. */
async function redeliveries(rig: Rig, stages: readonly Stage[]): Promise<number> {
  let n = 0;
  for (const stage of stages) {
    for await (const c of rig.bus.jsm.consumers.list(INPUT[stage])) n += c.num_redelivered;
  }
  return n;
}

/** CPU and messages from now on, of `workers` and the server. */
async function meter(rig: Rig, workers: Worker[]): Promise<Meter> {
  const cpu = async (): Promise<number> =>
    (await Promise.all(workers.map((w) => w.stats()))).reduce((s, x) => s + x.cpuMs, 0);
  const cpu0 = await cpu();
  const server0 = processCpuMs(rig.server.pid());
  const msgs0 = await rig.server.messages();
  const t0 = Date.now();
  return {
    async stop(measured) {
      const elapsed = Date.now() - t0;
      const msgs = await rig.server.messages();
      const serverCpu = processCpuMs(rig.server.pid()) - server0;
      const n = Math.max(1, measured);
      return {
        eventsPerSecond: Math.round((measured * 1_000) / elapsed),
        processCpuUs: Math.round((((await cpu()) - cpu0) * 1_000) / n),
        serverCpuUs: Math.round((serverCpu * 1_000) / n),
        serverMsgsIn: round((msgs.in - msgs0.in) / n, 2),
        serverMsgsOut: round((msgs.out - msgs0.out) / n, 2),
        measured,
      };
    },
  };
}

function stageEnv(stage: Stage, index: number, replicas: number): Record<string, string> {
  if (stage === 'ingest') return { CAIRN_INGEST_SHARD: String(index) };
  return replicas === 1 ? {} : { CAIRN_INSTANCES: String(replicas), CAIRN_ORDINAL: String(index) };
}

async function measure(o: BenchOptions, replicas: number, events: number): Promise<ReplicasRun> {
  const rig = await startRig(
    { CAIRN_PARTITIONS: String(PARTITIONS), CAIRN_INGEST_SHARDS: String(replicas) },
    { monitor: true },
  );
  const sink: Sink = await startSink();
  const workers: Worker[] = [];
  try {
    await addWebhook(rig.bus, 'sink', sink.url);
    await publishJourneys(rig.bus, FORWARD);
    const streamCount = async (name: string): Promise<number> =>
      (await rig.bus.jsm.streams.info(name)).state.messages;
    // What each stage has done: routed to MATCH, jobs in DELIVER, requests at the sink.
    const progress: Record<Stage, () => Promise<number>> = {
      ingest: () => streamCount(STREAMS.MATCH),
      matcher: () => streamCount(STREAMS.DELIVER),
      sender: () => Promise.resolve(sink.count),
    };

    // Every process is forked, loaded and connected first (BENCH_WAIT_GO): a stage's replicas then
    // start their services at one instant, so none drains the backlog alone while another loads.
    const forked = await Promise.all(
      STAGES.map((stage) =>
        Promise.all(
          Array.from({ length: replicas }, (_, i) =>
            startWorker({
              env: { ...rig.env, BENCH_SERVICES: stage, BENCH_WAIT_GO: '1', ...stageEnv(stage, i, replicas) },
              cpuProfDir: o.cpuProfDir,
            }),
          ),
        ),
      ),
    );
    workers.push(...forked.flat());
    await publishAll(rig.bus.js, events, formEvent);
    const stages = {} as Record<Stage, Cost>;
    for (const [k, stage] of STAGES.entries()) {
      const started = forked[k]!;
      const done0 = await progress[stage]();
      const m = await meter(rig, started);
      await Promise.all(started.map((w) => w.go()));
      if (!(await waitFor(async () => (await progress[stage]()) >= events, 300_000, 50)))
        throw new Error(`replicas: ${replicas} ${stage} process(es) did not drain ${events} events`);
      const cost = await m.stop(events - done0);
      stages[stage] = { ...cost, redelivered: round((await redeliveries(rig, [stage])) / events, 2) };
    }

    // Every stage running: a second backlog, published at full speed.
    const redelivered0 = await redeliveries(rig, STAGES);
    const m = await meter(rig, workers);
    await publishAll(rig.bus.js, events, (i) => formEvent(events + i));
    if (!(await waitFor(() => sink.count >= 2 * events, 300_000, 50)))
      throw new Error(`replicas: ${replicas}+${replicas}+${replicas} did not deliver ${events} events`);
    const endToEnd = {
      ...(await m.stop(events)),
      redelivered: round(((await redeliveries(rig, STAGES)) - redelivered0) / events, 2),
    };
    const run = { replicas, stages, endToEnd };
    o.note(`replicas ${replicas}+${replicas}+${replicas}: ${JSON.stringify(run)}`);
    return run;
  } finally {
    for (const w of workers) await w.stop();
    await sink.close();
    await rig.close();
  }
}

/** Per field, the median over the runs. */
function medianCost(costs: Cost[]): Cost {
  const m = (f: keyof Cost): number => median(costs.map((c) => c[f]));
  return {
    eventsPerSecond: m('eventsPerSecond'),
    processCpuUs: m('processCpuUs'),
    serverCpuUs: m('serverCpuUs'),
    serverMsgsIn: m('serverMsgsIn'),
    serverMsgsOut: m('serverMsgsOut'),
    measured: m('measured'),
    redelivered: m('redelivered'),
  };
}

export async function replicas(o: BenchOptions): Promise<ScenarioResult> {
  const events = o.quick ? 300 : 5_000;
  const rounds = o.quick ? 1 : 3;
  const runs: ReplicasRun[] = [];
  for (let r = 0; r < rounds; r++) for (const n of [1, 2]) runs.push(await measure(o, n, events));
  const of = (n: number) => {
    const rs = runs.filter((r) => r.replicas === n);
    return {
      endToEnd: medianCost(rs.map((r) => r.endToEnd)),
      stages: Object.fromEntries(STAGES.map((s) => [s, medianCost(rs.map((r) => r.stages[s]))])) as Record<
        Stage,
        Cost
      >,
    };
  };
  const one = of(1);
  const two = of(2);
  const ratio = (a: number, b: number): string => (b / a).toFixed(2);
  const perStage = STAGES.map(
    (s) =>
      `${s} ${one.stages[s].eventsPerSecond} -> ${two.stages[s].eventsPerSecond} (${ratio(one.stages[s].eventsPerSecond, two.stages[s].eventsPerSecond)}x)`,
  ).join(', ');
  const cpu = STAGES.map((s) => `${s} ${one.stages[s].processCpuUs}`).join(', ');
  const redelivered = STAGES.map(
    (s) => `${s} ${one.stages[s].redelivered} / ${two.stages[s].redelivered}`,
  ).join(', ');
  const hop = one.stages.ingest;
  return {
    name: 'replicas',
    figure: two.endToEnd.eventsPerSecond,
    unit: 'events/s (2+2+2 processes)',
    extra:
      `1+1+1: ${one.endToEnd.eventsPerSecond} events/s, 2+2+2 / 1+1+1: ${ratio(one.endToEnd.eventsPerSecond, two.endToEnd.eventsPerSecond)}x; ` +
      `per stage alone, 1 -> 2 replicas, events/s: ${perStage}; ` +
      `CPU per event, 1 replica: ${cpu} µs; redeliveries per event alone, 1 / 2 replicas: ${redelivered}; the ingest hop: ${hop.serverMsgsIn} in + ${hop.serverMsgsOut} out server messages, ${hop.serverCpuUs} µs nats-server CPU per event ` +
      `(medians of ${rounds}, ${events} events each)`,
    details: { events, rounds, partitions: PARTITIONS, medians: { one, two }, runs },
  };
}
