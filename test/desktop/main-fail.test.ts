/**
 * The Electron entry with fakes, on a start that fails (here Electron never gets ready, as without
 * a display): the failure is said in an error box and the log, and the process exits rather than
 * staying invisible with the single-instance lock.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { mock, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../helpers.ts';
import { electronFakes, electronLogFake } from './electron-fakes.ts';

test('a start that fails is shown in an error box and logged, and the app exits', async (t) => {
  const dir = tempDir(t);
  const saved = process.env['IBKR_KEEPER_CONFIG_DIR'];
  process.env['IBKR_KEEPER_CONFIG_DIR'] = dir;
  t.after(() =>
    saved === undefined
      ? delete process.env['IBKR_KEEPER_CONFIG_DIR']
      : (process.env['IBKR_KEEPER_CONFIG_DIR'] = saved),
  );
  const { fakes } = electronFakes();
  fakes.app.whenReady = async () => {
    throw new Error('Missing X server or $DISPLAY');
  };
  mock.module('electron', { namedExports: fakes, defaultExport: fakes });
  const { log, lines } = electronLogFake(path.join(dir, 'main.log'));
  mock.module('electron-log/main', { defaultExport: log });
  await import(pathToFileURL(path.join(ROOT, 'dist/main/desktop/main.js')).href);
  for (let i = 0; i < 100 && !fakes.app.calls.includes('exit:1'); i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fakes.app.calls.includes('exit:1'), 'the process ends');
  assert.deepEqual(fakes.dialog.errors, [
    [
      'IBKR Session Keeper could not start',
      `Missing X server or $DISPLAY\n\nThe log has more: ${path.join(dir, 'main.log')}`,
    ],
  ]);
  assert.deepEqual(lines, ['error Could not start: Missing X server or $DISPLAY']);
});
