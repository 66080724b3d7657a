// One `cairn replay` for bench/replay.ts, in its own process: prints its wall time, the events it
// read, its CPU time (user + system, startup included) and its peak RSS as one JSON line after the command's own output.
import { runCli } from '../services/cli/cli.js';

const lines: string[] = [];
const started = performance.now();
const code = await runCli(process.argv.slice(2), {
  out: (line) => lines.push(line),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
});
const ms = Math.round(performance.now() - started);
if (code !== 0) process.exit(code);
const read = Number(/events: (\d+) read/.exec(lines.join('\n'))?.[1] ?? 0);
console.log(lines.join('\n'));
const usage = process.resourceUsage();
const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
console.log(JSON.stringify({ ms, cpuMs, read, maxRssKb: usage.maxRSS }));
