/**
 * The Electron entry: connects the desktop core to Electron, one adapter per API. Single
 * instance, no dock icon on macOS, the keeper running with every window closed, a quit that never
 * waits more than QUIT_WITHIN_MS. Everything it wires is tested with fakes of these APIs
 * (test/desktop/main.test.ts); this file only passes the real ones.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  powerMonitor,
  screen,
  session,
  shell,
  Tray,
  type OpenDialogOptions,
} from 'electron';
import log from 'electron-log/main';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_ID } from '../app-id.ts';
import type { DesktopInfo } from '../contract.ts';
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
import { setupLoginWindow } from './login-window.ts';
import { NOT_PACKAGED, setupLaunchAtLogin } from './login-items.ts';
import { AppNotifier } from './notifications.ts';
import { setupPower } from './power.ts';
import {
  confirmLogout,
  damagedFiles,
  isFirstRun,
  noTrayHint,
  reportDamagedFiles,
  stopWithin,
  trayAvailability,
  type MessageBox,
} from './startup.ts';
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
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  // The log file (electron-log: the platform's logs folder, rotated at 1 MB), with the console.
  log.initialize();
  log.transports.file.level = 'info';
  const logFile = log.transports.file.getFile().path;
  // The installed app has no application menu (a tray app has nothing to put there, and the
  // default one offers DevTools); a development run keeps Electron's.
  if (app.isPackaged) Menu.setApplicationMenu(null);
  await app.whenReady();
  // A tray app: no dock icon on macOS (LSUIElement in the packaged app does the same).
  app.dock?.hide();

  const configDir = resolveConfigDir();
  const firstRun = isFirstRun(configDir);
  const damaged = damagedFiles(configDir);
  for (const problem of damaged) log.error(problem.message);
  // settings.json, in electron-store's format, read and written by SettingsFile itself so that a
  // broken file is reported rather than failing the start, and nothing is written until a save.
  const settings = SettingsFile.open(configDir);
  const loginItems = app.isPackaged
    ? setupLaunchAtLogin({
        platform: process.platform,
        app,
        env: process.env,
        home: homedir(),
        execPath: process.execPath,
      })
    : NOT_PACKAGED;
  const showMessageBox: MessageBox = (options) => dialog.showMessageBox(options);
  let trayIcon: Tray | undefined;
  let trayHint: string | null = null;
  /** A folder dialog over the window is open: the window keeps its place while it has the focus. */
  let dialogOpen = false;
  const windows = setupWindows({
    createWindow: (options) => new BrowserWindow(options),
    // No DevTools in the installed app (a development run opens them with Ctrl+Shift+I).
    devTools: !app.isPackaged,
    // Next to the tray icon (its bounds on macOS and Windows, the pointer on Linux).
    trayBounds: () => trayIcon?.getBounds(),
    screen,
    preloadPath: path.join(ROOT, 'dist/main/desktop/preload.cjs'),
    indexPath: path.join(ROOT, 'dist/renderer/index.html'),
    icon: path.join(ROOT, 'assets/icon.png'),
    // Where the desktop shows no tray icon the window is the way in: it stays when it loses the focus.
    hideOnBlur: () => trayHint === null && !dialogOpen,
  });
  const desktop = (): DesktopInfo => ({ launchAtLogin: loginItems.status(), trayHint, logFile });
  let core: DesktopCore;
  // "Log in": the gateway's login page in a window of the app, trusting exactly the pinned certificate.
  const loginWindow = setupLoginWindow({
    createWindow: (options) => new BrowserWindow(options),
    // In memory only (no "persist:"), without an HTTP cache: nothing of the login reaches the disk.
    sessionFor: (partition) => session.fromPartition(partition, { cache: false }),
    devTools: !app.isPackaged,
    icon: path.join(ROOT, 'assets/icon.png'),
    log: (line) => log.info(line),
    onActive: () => void core.keeper.openLoginPage(),
  });
  // From the tray or a notification nothing shows an action's answer: a login window that does not
  // open (no certificate trusted yet, a changed one) says why in a box, which blocks nothing.
  const logIn = async (): Promise<void> => {
    const result = await core.act('open-login-page');
    if (result.ok) return;
    log.warn(result.message);
    await showMessageBox({
      type: 'warning',
      message: 'The login window did not open',
      detail: result.message,
      buttons: ['OK'],
      defaultId: 0,
      cancelId: 0,
    });
  };
  const onClick = (note: { kind: string }): void => (note.kind === 'login-required' ? void logIn() : windows.show());
  const onError = (message: string): void => core.notificationFailed(message);
  // Electron's notifications, credited to the app; node-notifier where Electron has none.
  const notifier = new AppNotifier({
    isSupported: () => Notification.isSupported(),
    create: (options) => new Notification(options),
    fallback: new DesktopNotifier({ onError, onClick }),
    onClick,
    onError,
    icon: path.join(ROOT, 'assets/icon.png'),
  });
  core = new DesktopCore({
    configDir,
    settings,
    clock: realClock,
    scheduler: realScheduler,
    notifier,
    desktop,
    openExternal: (url) => shell.openExternal(url),
    openPath: (file) => shell.openPath(file),
    chooseFolder: async (defaultPath) => {
      const options: OpenDialogOptions = {
        title: "Choose the gateway's folder",
        buttonLabel: 'Choose',
        defaultPath,
        properties: ['openDirectory'],
      };
      const win = windows.window();
      dialogOpen = true;
      try {
        const chosen = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
        return chosen.canceled ? undefined : chosen.filePaths[0];
      } finally {
        dialogOpen = false;
      }
    },
    openLoginWindow: (target) => loginWindow.open(target),
    applyLaunchAtLogin: (enabled) => loginItems.set(enabled),
  });
  core.on('log', (line) => log.info(line));

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
      confirm: (message, detail) => confirmLogout(showMessageBox, message, detail),
      act: (action) => void (action === 'open-login-page' ? logIn() : core.act(action)),
      openLoginInBrowser: () => void core.openLoginPageInBrowser(),
      showDetails: () => windows.show(),
      toggleDetails: () => windows.toggle(),
      setLaunchAtLogin: (enabled) => void core.saveSettings({ launchAtLogin: enabled }),
      openLogs: () => void shell.openPath(logFile),
      quit: () => app.quit(),
      gatewayAction: (action) => void core.gatewayAction(action),
      showGatewayLog: () =>
        void core.showGatewayLog().then((result) => !result.ok && log.warn(`Show gateway log: ${result.message}`)),
    },
    state.status,
    state.settings,
    state.desktop.launchAtLogin,
    state.gatewayLog,
  );
  core.on('state', (next) => {
    tray.update(next.status, next.settings, next.desktop.launchAtLogin, next.gatewayLog);
    windows.send(next);
    loginWindow.sessionState(next.status.state);
  });
  setupPower(powerMonitor, () => void core.act('check'));

  app.on('second-instance', () => windows.show());
  // macOS: opening the app again (Finder, Spotlight, the Dock) shows the window.
  app.on('activate', () => windows.show());
  // With every window closed the keeper goes on: listening here keeps Electron from quitting.
  app.on('window-all-closed', () => undefined);
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    loginWindow.close();
    // Whatever is in flight (a request to a gateway that never answers), the app quits in time.
    void stopWithin(() => core.stop()).then((how) => {
      if (how === 'gave-up') log.warn('Quit without waiting for a request under way to end.');
      tray.destroy();
      app.quit();
    });
  });
  core.start();
  // The window opens by itself on the first run, where the desktop shows no tray, and when a file is damaged.
  if (firstRun || damaged.length > 0 || process.env['IBKR_KEEPER_SHOW_DETAILS'] === '1') windows.show();
  void reportDamagedFiles(damaged, { showMessageBox, openFolder: (dir) => shell.openPath(dir) });
  void trayAvailability(process.platform).then((tray) => {
    if (tray !== 'absent') return;
    trayHint = noTrayHint(process.env);
    log.warn(trayHint);
    windows.show();
    windows.send(core.state());
  });
}

// A start that fails is said, and the process ends: never an invisible one holding the single-instance lock.
main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  log.error(`Could not start: ${message}`);
  dialog.showErrorBox(
    'IBKR Session Keeper could not start',
    `${message}\n\nThe log has more: ${log.transports.file.getFile().path}`,
  );
  app.exit(1);
});
