/**
 * The Electron entry with fakes (as test/desktop/main.test.ts), on a start that must not leave an
 * invisible process: the first run with a damaged trust.json on a desktop with no tray opens the
 * window, which says how to get a tray, and a dialog names the file and opens its folder; the packaged app has
 * no application menu. Then Quit while a
 * request to an unreachable gateway hangs: the app quits without waiting for it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mock, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, startSim, tempDir } from '../helpers.ts';
import { electronFakes, electronLogFake, fakeGdbus, FakeBrowserWindow, FakeTray } from './electron-fakes.ts';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(
  'first run with a damaged trust.json: the window opens, a dialog names the file; Quit does not wait on a ' +
    'hanging request',
  async (t) => {
    // IBKR unreachable: every API request is accepted and never answered.
    const sim = await startSim(t, { unreachable: true });
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'trust.json'), '{"version": 1, "pins": ');
    const home = tempDir(t);
    const saved = {
      HOME: process.env['HOME'],
      XDG_CONFIG_HOME: process.env['XDG_CONFIG_HOME'],
      IBKR_KEEPER_CONFIG_DIR: process.env['IBKR_KEEPER_CONFIG_DIR'],
      PATH: process.env['PATH'],
      XDG_CURRENT_DESKTOP: process.env['XDG_CURRENT_DESKTOP'],
    };
    // Stock GNOME: no StatusNotifierWatcher on the session bus, so no tray icon shows.
    const bin = fakeGdbus(home, false);
    Object.assign(process.env, {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      IBKR_KEEPER_CONFIG_DIR: dir,
      PATH: `${bin}${path.delimiter}${process.env['PATH']}`,
      XDG_CURRENT_DESKTOP: 'GNOME',
    });
    t.after(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });
    const { fakes, opened, handlers } = electronFakes();
    fakes.app.isPackaged = true;
    fakes.dialog.answers.push(0); // "Open folder"
    mock.module('electron', { namedExports: fakes, defaultExport: fakes });
    const { log, lines } = electronLogFake(path.join(home, 'main.log'));
    mock.module('electron-log/main', { defaultExport: log });
    await import(pathToFileURL(path.join(ROOT, 'dist/main/desktop/main.js')).href);

    // No settings.json yet (the first run) and a damaged file: the window is open at once.
    await until('the window', () => FakeBrowserWindow.all[0]?.visible === true);
    assert.ok(fakes.app.calls.includes('setApplicationMenu:null'), 'no application menu in the installed app');
    assert.equal(
      (FakeBrowserWindow.all[0]!.options['webPreferences'] as { devTools: boolean }).devTools,
      false,
      'nor DevTools',
    );
    await until('the dialog', () => fakes.dialog.boxes.length === 1);
    assert.equal(fakes.dialog.boxes[0]!['message'], 'IBKR Session Keeper cannot read trust.json');
    assert.ok(String(fakes.dialog.boxes[0]!['detail']).includes(path.join(dir, 'trust.json')));
    await until('the folder to open', () => opened.includes(`path:${dir}`));
    assert.ok(
      lines.some((line) => line.startsWith('error ') && line.includes(path.join(dir, 'trust.json'))),
      'the log names it too',
    );

    // No tray on this desktop: the window says how to get one, and stays when it loses the focus.
    const win0 = FakeBrowserWindow.all[0]!;
    await until('the tray hint', () =>
      win0.webContents.sent.some(([, s]) =>
        /AppIndicator and KStatusNotifierItem Support/.test(
          String((s as { desktop: { trayHint: string | null } }).desktop.trayHint),
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 400));
    win0.emit('blur');
    assert.equal(win0.visible, true, 'no hiding on blur without a tray');
    // macOS: opening the app again shows the window.
    win0.hide();
    fakes.app.emit('activate');
    assert.equal(win0.visible, true, 'activate shows the window');

    // Fixed by hand, and the gateway set from the window: the unreachable simulator, where a request hangs.
    writeFileSync(path.join(dir, 'trust.json'), JSON.stringify({ version: 1, pins: {} }));
    const win = FakeBrowserWindow.all[0]!;
    const fromWindow = { sender: { id: win.webContents.id }, senderFrame: { url: win.url } };
    const saved1 = (await handlers.get('settings:save')!(fromWindow, { gateway: sim.url })) as { ok: boolean };
    assert.equal(saved1.ok, true);
    await until('a request in flight', () => sim.requests().some((r) => r.outcome === 'unanswered'));
    // Quit from the menu: the app quits though the request never ends (the client would wait 10 s).
    const tray = FakeTray.all[0]!;
    tray.menu.find((item) => item.id === 'quit')!.click!({} as never, undefined as never, undefined as never);
    await until('the app to quit', () => fakes.app.calls.includes('quit'), 5_000);
    assert.ok(lines.includes('warn Quit without waiting for a request under way to end.'));
  },
);
