// The cost behind the matcher's per-entry count (docs/performance.md): `kv.keys(filter)` on a
// bucket of N keys, against `kv.get`, with the nats-server CPU each call costs.
//   node dist/bench/kv-keys.js [sizes=1000,10000,100000]
import { Kvm } from '@nats-io/kv';

import { connectBus } from '../libs/bus/index.js';
import { benchLogger } from './cairn.js';
import { processCpuMs, startServer } from './env.js';
import { publishAll } from './load.js';

const CALLS = 200;

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
  const server = await startServer();
  const bus = await connectBus({ url: server.url, name: 'bench-kv-keys', logger: benchLogger });
  try {
    const kv = await new Kvm(bus.js).create('instances', { history: 1 });
    let have = 0;
    for (const n of sizes) {
      await publishAll(bus.js, n - have, (i) => ({ subject: `$KV.instances.j.u${have + i}.k`, data: 'x' }));
      have = n;
      const probes: Array<[string, (i: number) => Promise<void>]> = [
        [
          'kv.keys(filter)',
          async (i) => {
            for await (const _key of await kv.keys(`j.u${i}.>`)) void _key;
          },
        ],
        ['kv.get', async (i) => void (await kv.get(`j.u${i}.k`))],
      ];
      for (const [label, probe] of probes) {
        const cpu0 = processCpuMs(server.pid());
        const t0 = performance.now();
        for (let c = 0; c < CALLS; c++) await probe((c * 7) % n);
        const wall = (performance.now() - t0) / CALLS;
        const cpu = (processCpuMs(server.pid()) - cpu0) / CALLS;
        process.stdout.write(
          `${n} keys: ${label} ${wall.toFixed(2)} ms per call, nats-server CPU ${cpu.toFixed(2)} ms per call\n`,
        );
      }
    }
  } finally {
    await bus.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
