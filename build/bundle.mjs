// Bundles what Electron loads outside Node's module system: the details window (one script,
// Chart.js included) and the preload, which a sandboxed renderer needs as a single CommonJS file.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/renderer', { recursive: true });
await build({
  entryPoints: ['renderer/app.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome130',
  outfile: 'dist/renderer/app.js',
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(`renderer/${file}`, `dist/renderer/${file}`);
await build({
  entryPoints: ['main/desktop/preload.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  external: ['electron'],
  target: 'node22',
  outfile: 'dist/main/desktop/preload.cjs',
  logLevel: 'warning',
});
