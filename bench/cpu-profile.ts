// Where the CPU goes: reads a V8 .cpuprofile (node --cpu-prof, or `bench --profile <dir>`) and
// prints the functions with the most self time, and the same time grouped by package or file.
//   node dist/bench/cpu-profile.js <file.cpuprofile> [top=25]
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<pkg> or the project path, for grouping. */
function groupOf(url: string): string {
  if (!url) return '(native/idle)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url;
  const m = /\/dist\/(.+)$/.exec(url);
  return m ? m[1]! : url;
}

export function summarizeProfile(p: Profile, top = 25): string {
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const f = n.callFrame;
    const fn = `${f.functionName || '(anonymous)'} ${groupOf(f.url)}:${f.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byGroup.set(groupOf(f.url), (byGroup.get(groupOf(f.url)) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>): string[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${pct(us)}  ${k}`);
  return [
    `total ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    'self time by package / file:',
    ...rows(byGroup),
    '',
    'self time by function:',
    ...rows(byFn),
  ].join('\n');
}

async function main(): Promise<void> {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: node dist/bench/cpu-profile.js <file.cpuprofile> [top]');
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  process.stdout.write(`${summarizeProfile(profile, Number(top ?? 25))}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
