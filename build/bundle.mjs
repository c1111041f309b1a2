// Bundles what is loaded outside Node's module system or kept small: the details window (one
// script, with the tray icons it shows beside it), the preload (a sandboxed renderer needs a single CommonJS file), and
// the command line.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';

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
// The window shows each state with its tray icon (the same shapes, for who cannot tell colours).
cpSync('assets/tray', 'dist/renderer/icons', { recursive: true, filter: (src) => !src.includes('Template') });
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

// The command line, as one CommonJS file that bin/ibkr-keeper.js requires. `watch` runs for
// months, so its memory counts: one minified CommonJS file, loaded by require, peaks about 20 MB
// lower than the same code as separate ES modules (58 against 79 MB here: no ES-module loader, no
// export lists built for Node's built-in modules, zod trimmed to what is used). What a command
// loads on demand (the simulator, the demo, desktop notifications) stays out of the file and is
// loaded from dist/main when that command runs.
const CLI = 'dist/cli/ibkr-keeper.cjs';
const onDemand = {
  name: 'on-demand-from-dist',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = path
        .relative(path.dirname(CLI), path.resolve(args.resolveDir, args.path))
        .split(path.sep)
        .join('/');
      return { path: target.startsWith('.') ? target : `./${target}`, external: true };
    });
  },
};
// conf validates with ajv only when given a JSON schema. The keeper checks its files with zod and
// never gives one, so the CLI's file leaves ajv out (3 MB less memory); if a schema were ever
// given, this says so instead of passing it unchecked.
const withoutAjv = {
  name: 'conf-without-ajv',
  setup(b) {
    b.onResolve({ filter: /^ajv(-formats)?(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'without-ajv' }));
    b.onLoad({ filter: /.*/, namespace: 'without-ajv' }, () => ({
      loader: 'js',
      contents:
        `export class Ajv2020 { constructor() { throw new Error('The ibkr-keeper command is built ` +
        `without ajv: check files with zod, not a conf schema.'); } }
export default { default() {} };`,
    }));
  },
};
await build({
  entryPoints: ['dist/main/cli/main.js'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  outfile: CLI,
  minify: true,
  sourcemap: true,
  plugins: [onDemand, withoutAjv],
  // fs-native-extensions loads its prebuilt binary from its own folder, so file-lock.ts requires it
  // from node_modules at run time (through __filename here; import.meta.url, empty here, in the ES build).
  external: ['fs-native-extensions'],
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
});
