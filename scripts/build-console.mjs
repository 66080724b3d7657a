// Builds the web console (console/) into dist/console/: one ES module bundle, its CSS and the
// page, all served by the admin service; nothing is fetched from elsewhere at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'console/src/app.tsx'), style: join(root, 'console/src/console.css') },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'console/tsconfig.json'),
  outdir: out,
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(root, 'console/index.html'), join(out, 'index.html'));
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, o]) => `${file.replace(/^.*dist\//, 'dist/')} ${(o.bytes / 1024).toFixed(1)} KiB`);
console.log(`console: ${sizes.join(', ')}`);
