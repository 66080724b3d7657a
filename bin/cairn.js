#!/usr/bin/env node
// The `cairn` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/services/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(
    'cairn: the CLI is not built yet. Run `npm run build` (or `npm ci`) in the checkout first.\n',
  );
  process.exit(1);
}
await import(main);
