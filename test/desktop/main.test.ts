/**
 * The app's Electron entry (main/desktop/main.ts) run in plain Node with fakes of the Electron
 * APIs, against the simulator over real HTTPS: the wiring of tray, window, IPC, power events and
 * quitting, as far as it can be tested without Electron's binary (test/electron runs the real app).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { mock, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { MenuItemConstructorOptions } from 'electron';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { probeCertificate } from '../../main/session/tls.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';
import {
  electronFakes,
  electronLogFake,
  fakeGdbus,
  FakeBrowserWindow,
  FakeNotification,
  FakeSession,
  FakeTray,
} from './electron-fakes.ts';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the entry wires tray, window, IPC, power events and a clean quit to the keeper', async (t) => {
  const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
  const dir = tempDir(t);
  SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 60 });
  process.env['IBKR_KEEPER_CONFIG_DIR'] = dir;
  // Nothing may reach the real home: HOME and XDG_CONFIG_HOME point into the test's folder.
  const home = tempDir(t);
  const saved = {
    HOME: process.env['HOME'],
    XDG_CONFIG_HOME: process.env['XDG_CONFIG_HOME'],
    PATH: process.env['PATH'],
  };
  process.env['HOME'] = home;
  process.env['XDG_CONFIG_HOME'] = path.join(home, '.config');
  // A desktop with a tray, whatever desktop the test runs on.
  process.env['PATH'] = `${fakeGdbus(home, true)}${path.delimiter}${process.env['PATH']}`;
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const { fakes, handlers, opened, verifyProcs } = electronFakes();
  mock.module('electron', { namedExports: fakes, defaultExport: fakes });
  const logFile = path.join(home, 'logs/main.log');
  const { log, lines } = electronLogFake(logFile);
  mock.module('electron-log/main', { defaultExport: log });
  await import(pathToFileURL(path.join(ROOT, 'dist/main/desktop/main.js')).href);

  assert.deepEqual(fakes.app.calls.slice(0, 2), ['requestSingleInstanceLock', 'dock.hide']);
  assert.equal(verifyProcs.length, 1, "Chromium's certificate check is set");
  const tray = FakeTray.all[0]!;
  const image = (state: string) => ({ path: path.join(ROOT, 'assets/tray', `${state}-32.png`) });
  assert.deepEqual(tray.images[0], image('starting'));
  await until('the tray to turn ready', () => JSON.stringify(tray.images.at(-1)) === JSON.stringify(image('ready')));
  assert.match(tray.tooltip, /^IBKR Session Keeper: Session ready\. Authenticated and connected to IBKR as simuser1/);

  // No window until asked; a second instance shows it, with the secure preferences.
  assert.equal(FakeBrowserWindow.all.length, 0);
  fakes.app.emit('second-instance');
  const win = FakeBrowserWindow.all[0]!;
  assert.equal(win.url, pathToFileURL(path.join(ROOT, 'dist/renderer/index.html')).href);
  assert.deepEqual((win.options['webPreferences'] as Record<string, unknown>)['sandbox'], true);
  assert.deepEqual(win.webContents.openHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
  // Below the panel at the top, under the pointer (Linux gives the tray no bounds), inside the screen.
  assert.deepEqual(win.bounds, { x: 1920 - 380, y: 32 + 6, width: 380, height: 560 });

  // IPC answers the window, and only the window.
  const fromWindow = { sender: { id: win.webContents.id }, senderFrame: { url: win.url } };
  const state = (await handlers.get('state:get')!(fromWindow, null)) as { status: { state: string } };
  assert.equal(state.status.state, 'ready');
  assert.throws(
    () => handlers.get('state:get')!({ sender: { id: 999 }, senderFrame: { url: win.url } }, null),
    /Refused/,
  );

  // The keeper's changes reach the tray and the window; the menu's Take over reaches the simulator.
  await sim.apply({ type: 'compete', kicked: true });
  await fakes.powerMonitor.emit('resume');
  await until(
    'the tray to turn orange',
    () => JSON.stringify(tray.images.at(-1)) === JSON.stringify(image('competing')),
  );
  assert.ok(
    win.webContents.sent.some(
      ([channel, s]) =>
        channel === 'state:changed' && (s as { status: { state: string } }).status.state === 'competing',
    ),
  );
  // The app's own notification (Electron's), not node-notifier's; a click on it shows the window.
  await until('the competing notification', () => FakeNotification.all.some((n) => n.shown));
  const note = FakeNotification.all.find((n) => n.shown)!;
  assert.equal(note.options['title'], 'Another login holds your IBKR session');
  assert.equal(note.options['urgency'], 'critical');
  win.hide();
  note.emit('click');
  assert.equal(win.isVisible(), true, 'a click on the notification shows the window');
  const takeOver = tray.menu.find((item: MenuItemConstructorOptions) => item.id === 'take-over')!;
  assert.equal(takeOver.visible, true);
  takeOver.click!({} as never, undefined as never, undefined as never);
  await until(
    'the session to be taken over',
    () => JSON.stringify(tray.images.at(-1)) === JSON.stringify(image('ready')),
  );
  assert.equal(sim.counts()['/v1/api/iserver/auth/ssodh/init'], 1);

  // Log out asks first, without blocking the main process (an asynchronous box); Cancel does nothing.
  tray.menu.find((item) => item.id === 'logout')!.click!({} as never, undefined as never, undefined as never);
  await until('the confirmation', () => fakes.dialog.boxes.length === 1);
  assert.match(String(fakes.dialog.boxes[0]!['message']), /Log out of the IBKR gateway\?/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sim.counts()['/v1/api/logout'], undefined, 'cancelled: no logout');

  // A notification that fails is logged and shown in the window, never lost.
  FakeNotification.failNext = 'the toast was refused';
  await sim.apply({ type: 'expire-sso' });
  await fakes.powerMonitor.emit('resume');
  await until('the failure to reach the window', () =>
    win.webContents.sent.some(([, s]) =>
      /Could not show the notification "IBKR login needed" \(the toast was refused\)/.test(
        String((s as { notificationProblem: string | null }).notificationProblem),
      ),
    ),
  );
  assert.ok(
    lines.some((line) => /^info Could not show the notification "IBKR login needed"/.test(line)),
    'and in the log',
  );
  // Log in (the tray's item, as a click on the login notification): the app's own login window, on an
  // in-memory session of its own with the pinned certificate's check; it closes once the session is ready.
  tray.menu.find((item) => item.id === 'login')!.click!({} as never, undefined as never, undefined as never);
  await until('the login window', () => FakeBrowserWindow.all.length === 2);
  const login = FakeBrowserWindow.all[1]!;
  assert.equal(login.options['title'], `Log in to the gateway (${sim.url})`);
  assert.equal(login.url, `${sim.url}/`);
  const loginPrefs = login.options['webPreferences'] as Record<string, unknown>;
  assert.deepEqual(
    [loginPrefs['sandbox'], loginPrefs['nodeIntegration'], loginPrefs['preload']],
    [true, false, undefined],
  );
  const loginSession = FakeSession.all.get(String(loginPrefs['partition']))!;
  assert.match(loginSession.partition, /^login-/);
  assert.deepEqual(loginSession.options, { cache: false });
  const { port } = new URL(sim.url);
  const pem = (await probeCertificate('127.0.0.1', Number(port), 3_000)).pem;
  assert.equal(loginSession.verify('127.0.0.1', { data: pem }), 0, 'the pinned certificate');
  assert.equal(loginSession.request('https://api.ibkr.com/'), false);
  await sim.apply({ type: 'login' });
  await until('the login window to close by itself', () => login.isDestroyed());
  assert.equal(JSON.stringify(tray.images.at(-1)), JSON.stringify(image('ready')));
  assert.ok(lines.includes('info Login window: the session is ready; closing the window.'));

  // Launch at login as the system has it: unpackaged, only in the installed app; the menu opens the log file.
  const launch = tray.menu.find((item) => item.id === 'launch')!;
  assert.deepEqual([launch.label, launch.enabled], ['Launch at login (only in the installed app)', false]);
  tray.menu.find((item) => item.id === 'logs')!.click!({} as never, undefined as never, undefined as never);
  assert.ok(opened.includes(`path:${logFile}`));
  opened.length = 0;

  // Open login page in browser opens the configured gateway in the browser, for who prefers it.
  tray.menu.find((item) => item.id === 'login-browser')!.click!({} as never, undefined as never, undefined as never);
  await until('the login page to open', () => opened.length === 1);
  assert.deepEqual(opened, [`${sim.url}/`]);

  // The window closed, the keeper goes on; Quit stops it and then quits, without a logout.
  win.close();
  const tickles = sim.counts()['/v1/api/tickle'] ?? 0;
  fakes.powerMonitor.emit('unlock-screen');
  await until('a check after the screen unlock', () => (sim.counts()['/v1/api/tickle'] ?? 0) > tickles);
  tray.menu.find((item) => item.id === 'quit')!.click!({} as never, undefined as never, undefined as never);
  await until('the app to quit', () => fakes.app.calls.includes('quit'));
  assert.equal(sim.counts()['/v1/api/logout'], undefined);
  // Run unpackaged, it registered nothing to start at login, though the session was ready.
  assert.equal(existsSync(path.join(home, '.config/autostart')), false);
});
