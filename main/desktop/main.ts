/**
 * The Electron entry: connects the desktop core to Electron, one adapter per API. Single
 * instance, no dock icon on macOS, the keeper running with every window closed, a clean quit.
 * Everything it wires is tested with fakes of these APIs; this file only passes the real ones.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, powerMonitor, screen, session, shell, Tray } from 'electron';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfigDir } from '../session/config-dir.ts';
import { parseGatewayUrl } from '../session/gateway-client.ts';
import { DesktopNotifier } from '../session/notifier.ts';
import { SettingsFile } from '../session/settings.ts';
import { realClock, realScheduler } from '../session/time.ts';
import { TrustStore } from '../session/trust-store.ts';
import { verifyProc } from './certificates.ts';
import { DesktopCore } from './core.ts';
import { createHandlers } from './handlers.ts';
import { trayIconFile } from './icons.ts';
import { ownWindowsOnly, setupIpc } from './ipc.ts';
import { NOT_PACKAGED, setupLaunchAtLogin } from './login-items.ts';
import { setupPower } from './power.ts';
import { setupTray } from './tray.ts';
import { setupWindows } from './windows.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The app's root: dist/main/desktop -> the repository or the packaged app. */
const ROOT = path.resolve(HERE, '../../..');

export async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  if (process.platform === 'win32') app.setAppUserModelId('com.ibkr-session-keeper.app');
  await app.whenReady();
  // A tray app: no dock icon on macOS (LSUIElement in the packaged app does the same).
  app.dock?.hide();

  const configDir = resolveConfigDir();
  // settings.json, in electron-store's format, read and written by SettingsFile itself so that a
  // broken file is reported rather than failing the start, and nothing is written until a save.
  const settings = SettingsFile.open(configDir);
  const loginItems = app.isPackaged
    ? setupLaunchAtLogin({ platform: process.platform, app, env: process.env, home: homedir(), execPath: process.execPath })
    : NOT_PACKAGED;
  let trayIcon: Tray | undefined;
  const windows = setupWindows({
    createWindow: (options) => new BrowserWindow(options),
    // Next to the tray icon (its bounds on macOS and Windows, the pointer on Linux).
    trayBounds: () => trayIcon?.getBounds(),
    screen,
    preloadPath: path.join(ROOT, 'dist/main/desktop/preload.cjs'),
    indexPath: path.join(ROOT, 'dist/renderer/index.html'),
    icon: path.join(ROOT, 'assets/icon.png'),
  });
  let core: DesktopCore;
  const notifier = new DesktopNotifier({
    onError: (message) => console.error(message),
    onClick: (note) => (note.kind === 'login-required' ? void core.act('open-login-page') : windows.show()),
  });
  core = new DesktopCore({
    configDir,
    settings,
    clock: realClock,
    scheduler: realScheduler,
    notifier,
    openExternal: (url) => shell.openExternal(url),
    applyLaunchAtLogin: (enabled) => loginItems.set(enabled),
  });
  core.on('log', (line) => console.log(line));

  const trust = new TrustStore(configDir);
  session.defaultSession.setCertificateVerifyProc(
    verifyProc(() => {
      const address = parseGatewayUrl(core.settings.gateway);
      const pin = trust.get(address.origin);
      return pin && { hostname: address.hostname, fingerprint256: pin.fingerprint256 };
    }),
  );

  setupIpc(ipcMain, createHandlers(core), ownWindowsOnly(windows.ids, windows.pageUrl));
  const state = core.state();
  const tray = setupTray(
    {
      createTray: (image) => (trayIcon = new Tray(image)),
      buildMenu: (template) => Menu.buildFromTemplate(template),
      image: (s) => nativeImage.createFromPath(path.join(ROOT, 'assets/tray', trayIconFile(s, process.platform))),
      confirm: (message, detail) => dialog.showMessageBoxSync({ type: 'question', buttons: ['Log out', 'Cancel'], defaultId: 1, cancelId: 1, message, detail }) === 0,
      act: (action) => void core.act(action),
      showDetails: () => windows.show(),
      toggleDetails: () => windows.toggle(),
      setLaunchAtLogin: (enabled) => void core.saveSettings({ launchAtLogin: enabled }),
      quit: () => app.quit(),
      gatewayAction: (action) => void core.gatewayAction(action),
    },
    state.status,
    state.settings,
  );
  // Playwright's _electron tests read the tray through this (test/electron/app.e2e.ts).
  if (process.env['IBKR_KEEPER_E2E'] === '1') Object.assign(globalThis, { ibkrKeeperTray: tray });
  core.on('state', (next) => {
    tray.update(next.status, next.settings);
    windows.send(next);
  });
  setupPower(powerMonitor, () => void core.act('check'));

  app.on('second-instance', () => windows.show());
  // With every window closed the keeper goes on: listening here keeps Electron from quitting.
  app.on('window-all-closed', () => undefined);
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    void core.stop().finally(() => {
      tray.destroy();
      app.quit();
    });
  });
  core.start();
  if (process.env['IBKR_KEEPER_SHOW_DETAILS'] === '1') windows.show();
}

void main();
