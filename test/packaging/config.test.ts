/**
 * Packaging, as far as it can be checked without Electron's binary: electron-builder loads the
 * configuration and validates it against its schema; the deb's metadata is complete (maintainer,
 * homepage, dependencies that keep electron-builder's own); the app id is the app's; and the
 * package holds the app's code and nothing of the simulator, the demo or the CLI.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { APP_ID, PRODUCT_NAME } from '../../main/app-id.ts';
import { ROOT } from '../helpers.ts';

const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId: string;
  productName: string;
  files: Array<{ filter: string[] }>;
  deb: { depends: string[] };
  mac: { identity?: string | null; notarize?: boolean };
}

/** What electron-builder logged while loading the configuration. */
const builderLog: string[] = [];

async function loadConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger, log } = require('builder-util');
  // electron-builder writes its log to stdout in pieces, and the test runner reads this process's
  // stdout: a piece between two of the runner's messages broke it ("Unable to deserialize cloned data").
  log.stream = { write: (piece: string) => builderLog.push(piece) };
  const config = await getConfig(ROOT, null, null);
  await validateConfiguration(config, new DebugLogger(false));
  return config as BuilderConfig;
}

test("electron-builder loads and validates the configuration; the app id is the app's own", async () => {
  const config = await loadConfig();
  assert.equal(config.appId, APP_ID);
  assert.equal(config.productName, PRODUCT_NAME);
  // Signing and notarising are left to the environment (see the README): nothing forces them.
  assert.deepEqual([config.mac.identity, config.mac.notarize], [undefined, undefined]);
});

test(
  "the deb's metadata is complete: maintainer with an " + "email, homepage, and electron-builder's dependencies kept",
  async () => {
    const config = await loadConfig();
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.match(pkg.author.email, /^[^@\s]+@[^@\s]+$/, 'the maintainer is "author <email>"');
    assert.ok(pkg.author.name);
    assert.match(pkg.homepage, /^https:\/\//);
    const FpmTarget = require('app-builder-lib/out/targets/FpmTarget.js').default;
    const defaults: string[] = FpmTarget.prototype.getDefaultDepends.call({}, 'deb');
    assert.ok(defaults.length > 0);
    for (const dep of defaults) assert.ok(config.deb.depends.includes(dep), `deb depends keeps ${dep}`);
    assert.ok(config.deb.depends.includes('libnotify-bin'), 'notify-send, for the fallback notifications');
  },
);

test('the package holds everything the app loads, and nothing of the simulator, the demo or the CLI', async () => {
  const config = await loadConfig();
  // Every file the app's main process and preload reach, static and dynamic imports alike.
  const result = await build({
    entryPoints: [path.join(ROOT, 'dist/main/desktop/main.js'), path.join(ROOT, 'dist/main/desktop/preload.cjs')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    external: ['electron'],
    write: false,
    metafile: true,
    outdir: path.join(ROOT, 'dist/.graph'),
    logLevel: 'silent',
  });
  const reached = Object.keys(result.metafile.inputs).map((file) =>
    path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join('/'),
  );
  assert.ok(reached.includes('dist/main/session/keeper.js'));
  const patterns = config.files.flatMap((f) => f.filter);
  const packaged = (file: string): boolean =>
    patterns.some((p) => !p.startsWith('!') && path.matchesGlob(file, p)) &&
    !patterns.some((p) => p.startsWith('!') && path.matchesGlob(file, p.slice(1)));
  for (const file of reached) assert.ok(packaged(file), `${file}, which the app loads, is packaged`);
  for (const file of reached) assert.ok(!/\/(simulator|cli)\//.test(file), `the app loads no ${file}`);
  for (const file of [
    'dist/main/simulator/server.js',
    'dist/main/simulator/desktop-demo.js',
    'dist/main/cli/main.js',
    'dist/main/session/keeper.js.map',
  ])
    assert.equal(packaged(file), false, `${file} is not packaged`);
  assert.equal(packaged('dist/renderer/index.html'), true);
});
