// The `cairn` binary (bin/cairn.js imports the compiled file).
import { runCli } from './cli.js';
import { processIo } from './io.js';

process.exitCode = await runCli(process.argv.slice(2), processIo());
