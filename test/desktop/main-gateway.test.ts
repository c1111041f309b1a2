/**
 * The Electron entry (main/desktop/main.ts) with fakes of Electron's APIs, for the gateway
 * folder: "Choose…" opens a folder dialog parented to the window, which stays open meanwhile
 * (a popover hides when it loses the focus), and the chosen folder comes back checked; the tray's
 * Show gateway log opens today's log with shell.openPath.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mock, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { MenuItemConstructorOptions } from 'electron';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';
import { copyGateway, freePort } from '../real-gateway.ts';
import { electronFakes, electronLogFake, fakeGdbus, FakeBrowserWindow, FakeTray } from './electron-fakes.ts';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const click = (item: MenuItemConstructorOptions): void =>
  item.click!({} as never, undefined as never, undefined as never);

test('Choose… opens a folder dialog over the window, which stays; the tray opens the gateway log', async (t) => {
  const sim = await startSim(t);
  const dir = tempDir(t);
  const gateway = copyGateway(t, await freePort());
  const today = gatewayLogFile(gateway, Date.now());
  mkdirSync(path.dirname(today), { recursive: true });
  writeFileSync(today, '');
  SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, gatewayDir: gateway, launchAtLogin: false });
  const home = tempDir(t);
  const saved = {
    HOME: process.env['HOME'],
    XDG_CONFIG_HOME: process.env['XDG_CONFIG_HOME'],
    IBKR_KEEPER_CONFIG_DIR: process.env['IBKR_KEEPER_CONFIG_DIR'],
    PATH: process.env['PATH'],
  };
  Object.assign(process.env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    IBKR_KEEPER_CONFIG_DIR: dir,
    // A desktop with a tray, whatever desktop the test runs on.
    PATH: `${fakeGdbus(home, true)}${path.delimiter}${process.env['PATH']}`,
  });
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const { fakes, handlers, opened } = electronFakes();
  mock.module('electron', { namedExports: fakes, defaultExport: fakes });
  mock.module('electron-log/main', { defaultExport: electronLogFake(path.join(home, 'logs/main.log')).log });
  await import(pathToFileURL(path.join(ROOT, 'dist/main/desktop/main.js')).href);
  t.after(async () => {
    fakes.app.quit();
    await until('the app to quit', () => fakes.app.calls.includes('quit'));
  });

  const tray = FakeTray.all[0]!;
  const logItem = (): MenuItemConstructorOptions => tray.menu.find((item) => item.id === 'gateway-log')!;
  assert.deepEqual([logItem().visible, logItem().enabled], [true, true]);
  click(logItem());
  await until('the log to open', () => opened.length === 1);
  assert.deepEqual(opened, [`path:${today}`]);

  fakes.app.emit('second-instance');
  const win = FakeBrowserWindow.all[0]!;
  const fromWindow = { sender: { id: win.webContents.id }, senderFrame: { url: win.url } };
  await new Promise((r) => setTimeout(r, 400)); // past the blur of the click that showed it
  const other = copyGateway(t, await freePort());
  fakes.dialog.folders.push(other);
  const choice = await handlers.get('gateway:choose-folder')!(fromWindow, { defaultPath: null });
  assert.equal(fakes.dialog.opens.length, 1);
  const [parent, options] = fakes.dialog.opens[0] as [unknown, Record<string, unknown>];
  assert.equal(parent, win, 'parented to the window');
  assert.deepEqual(options['properties'], ['openDirectory']);
  assert.equal(options['defaultPath'], gateway, 'it opens at the folder set');
  assert.equal(win.isVisible(), true, 'the window stayed while its dialog had the focus');
  assert.deepEqual(Object.keys(choice as object), ['chosen', 'dir', 'ok', 'message']);
  assert.equal((choice as { ok: boolean; dir: string }).ok, true);
  assert.equal((choice as { dir: string }).dir, other);
  // Cancelled: nothing chosen. A blur with no dialog open hides the popover, as before.
  assert.deepEqual(await handlers.get('gateway:choose-folder')!(fromWindow, { defaultPath: other }), {
    chosen: false,
  });
  assert.equal(fakes.dialog.opens[1]![1] && (fakes.dialog.opens[1]![1] as { defaultPath: string }).defaultPath, other);
  win.emit('blur');
  assert.equal(win.isVisible(), false);
  // Only the app's own window may ask.
  assert.throws(
    () => handlers.get('gateway:choose-folder')!({ sender: { id: 999 }, senderFrame: { url: win.url } }, null),
    /Refused/,
  );
});
