/**
 * Small fakes of the Electron APIs the app's entry uses, recording what it asks of them, so that
 * main/desktop/main.ts runs in plain Node (with node:test's module mocks) against the simulator.
 */
import { EventEmitter } from 'node:events';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';

export class FakeWebContents extends EventEmitter {
  static next = 100;
  readonly id = FakeWebContents.next++;
  readonly sent: Array<[string, unknown]> = [];
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  stopped = 0;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
  stop(): void {
    this.stopped += 1;
  }
  /** A navigation event (`will-navigate`, `will-redirect`) as Electron 45 gives it; true when prevented. */
  navigate(event: 'will-navigate' | 'will-redirect', url: string): boolean {
    let prevented = false;
    this.emit(event, { url, preventDefault: () => void (prevented = true) }, url);
    return prevented;
  }
  /** `did-start-navigation` as Electron 45 gives it: a page (or a frame, or a fragment) starts loading. */
  startNavigation(url: string, options: { isMainFrame?: boolean; isSameDocument?: boolean } = {}): void {
    const details = { url, isMainFrame: options.isMainFrame ?? true, isSameDocument: options.isSameDocument ?? false };
    this.emit('did-start-navigation', details, url, details.isSameDocument, details.isMainFrame);
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
  isDevToolsOpened(): boolean {
    return false;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  url = '';
  visible = false;
  bounds: { x: number; y: number; width: number; height: number } | undefined;
  destroyed = false;
  readonly options: Record<string, unknown>;
  focused = 0;
  menuRemoved = false;
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    FakeBrowserWindow.all.push(this);
  }
  removeMenu(): void {
    this.menuRemoved = true;
  }
  async loadURL(url: string): Promise<void> {
    this.url = url;
    this.emit('ready-to-show');
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  isVisible(): boolean {
    return this.visible;
  }
  setBounds(bounds: { x: number; y: number; width: number; height: number }): void {
    this.bounds = bounds;
  }
  focus(): void {
    this.focused += 1;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.destroyed = true;
    this.emit('closed');
  }
}

/** A session of `session.fromPartition`: records the handlers the login window installs, and calls them. */
export class FakeSession extends EventEmitter {
  static all = new Map<string, FakeSession>();
  verifyProc: ((request: unknown, callback: (result: number) => void) => void) | undefined;
  beforeRequest: ((details: unknown, callback: (response: { cancel?: boolean }) => void) => void) | undefined;
  permissionRequest: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  permissionCheck: (() => boolean) | undefined;
  cleared = 0;
  readonly webRequest = {
    onBeforeRequest: (listener: NonNullable<FakeSession['beforeRequest']>) => void (this.beforeRequest = listener),
  };
  readonly partition: string;
  readonly options: unknown;
  constructor(partition: string, options: unknown) {
    super();
    this.partition = partition;
    this.options = options;
  }
  static fromPartition(partition: string, options?: unknown): FakeSession {
    const existing = FakeSession.all.get(partition);
    if (existing) return existing;
    const made = new FakeSession(partition, options);
    FakeSession.all.set(partition, made);
    return made;
  }
  setCertificateVerifyProc(proc: NonNullable<FakeSession['verifyProc']>): void {
    this.verifyProc = proc;
  }
  setPermissionRequestHandler(handler: NonNullable<FakeSession['permissionRequest']>): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: () => boolean): void {
    this.permissionCheck = handler;
  }
  async clearStorageData(): Promise<void> {
    this.cleared += 1;
  }
  /** Chromium's certificate check through the installed proc: 0 accepted, -2 refused. */
  verify(hostname: string, certificate: { data?: string; fingerprint?: string }): number {
    let result = Number.NaN;
    this.verifyProc!({ hostname, certificate }, (r) => (result = r));
    return result;
  }
  /** A request through the installed listener: true when it may go ahead. */
  request(url: string, resourceType = 'mainFrame'): boolean {
    let cancel: boolean | undefined;
    this.beforeRequest!({ url, resourceType }, (response) => (cancel = response.cancel === true));
    return cancel === false;
  }
}

export class FakeTray extends EventEmitter {
  static all: FakeTray[] = [];
  images: unknown[] = [];
  tooltip = '';
  menu: MenuItemConstructorOptions[] = [];
  constructor(image: unknown) {
    super();
    this.images.push(image);
    FakeTray.all.push(this);
  }
  setImage(image: unknown): void {
    this.images.push(image);
  }
  setToolTip(tip: string): void {
    this.tooltip = tip;
  }
  setContextMenu(menu: MenuItemConstructorOptions[]): void {
    this.menu = menu;
  }
  destroy(): void {}
  /** macOS and Windows give the icon's place; Linux gives zeros, as here. */
  getBounds(): { x: number; y: number; width: number; height: number } {
    return { x: 0, y: 0, width: 0, height: 0 };
  }
}

/** Electron's Notification: records what is shown; `failNext` makes the next one fail as a refused toast. */
export class FakeNotification extends EventEmitter {
  static supported = true;
  static all: FakeNotification[] = [];
  static failNext: string | undefined;
  readonly options: Record<string, unknown>;
  shown = false;
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    FakeNotification.all.push(this);
  }
  show(): void {
    const failure = FakeNotification.failNext;
    FakeNotification.failNext = undefined;
    if (failure !== undefined) return void setImmediate(() => this.emit('failed', {}, failure));
    this.shown = true;
  }
}

class FakeApp extends EventEmitter {
  calls: string[] = [];
  quitting = 0;
  isPackaged = false;
  dock = { hide: () => void this.calls.push('dock.hide') };
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return true;
  }
  setAppUserModelId(): void {}
  async whenReady(): Promise<void> {}
  getPath(): string {
    return '/nonexistent';
  }
  getVersion(): string {
    return '0.1.0';
  }
  exit(code: number): void {
    this.calls.push(`exit:${code}`);
  }
  quit(): void {
    this.quitting += 1;
    const event = { defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.calls.push('quit');
  }
  setLoginItemSettings(): void {}
  getLoginItemSettings(): { openAtLogin: boolean } {
    return { openAtLogin: false };
  }
}

export function electronFakes() {
  const handlers = new Map<string, (event: unknown, request: unknown) => unknown>();
  const opened: string[] = [];
  const verifyProcs: unknown[] = [];
  const fakes = {
    app: new FakeApp(),
    BrowserWindow: FakeBrowserWindow,
    Tray: FakeTray,
    Menu: {
      buildFromTemplate: (template: MenuItemConstructorOptions[]) => template,
      setApplicationMenu: (menu: unknown) => void fakes.app.calls.push(`setApplicationMenu:${menu}`),
    },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    dialog: {
      errors: [] as Array<[string, string]>,
      showErrorBox: (title: string, content: string) => void fakes.dialog.errors.push([title, content]),
      /** Every box asked for; each answered by the next of `answers` (else its cancel button). */
      boxes: [] as Array<Record<string, unknown>>,
      answers: [] as number[],
      async showMessageBox(options: { cancelId: number }) {
        fakes.dialog.boxes.push(options);
        return { response: fakes.dialog.answers.shift() ?? options.cancelId };
      },
      /** Every folder dialog asked for, with its arguments; each answered by the next of `folders` (else cancelled). */
      opens: [] as unknown[][],
      folders: [] as string[],
      async showOpenDialog(...args: unknown[]) {
        fakes.dialog.opens.push(args);
        // The dialog takes the focus from the window it is parented to, as a real one does.
        if (args[0] instanceof FakeBrowserWindow) args[0].emit('blur');
        const folder = fakes.dialog.folders.shift();
        return folder === undefined ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [folder] };
      },
    },
    Notification: FakeNotification,
    ipcMain: {
      handle: (channel: string, fn: (event: unknown, request: unknown) => unknown) => void handlers.set(channel, fn),
      removeHandler: (channel: string) => void handlers.delete(channel),
      on: () => undefined,
    },
    powerMonitor: new EventEmitter(),
    // One 1920x1080 display with a 32 px panel at the top, the pointer on the panel's right.
    screen: {
      getCursorScreenPoint: () => ({ x: 1800, y: 16 }),
      getDisplayNearestPoint: () => ({ workArea: { x: 0, y: 32, width: 1920, height: 1048 } }),
    },
    session: {
      defaultSession: { setCertificateVerifyProc: (proc: unknown) => void verifyProcs.push(proc) },
      fromPartition: (partition: string, options?: unknown) => FakeSession.fromPartition(partition, options),
    },
    shell: {
      openExternal: async (url: string) => void opened.push(url),
      openPath: async (file: string) => void opened.push(`path:${file}`),
    },
  };
  return { fakes, handlers, opened, verifyProcs };
}

/** electron-log's main-process logger: lines kept in memory, the file named `logFile`. */
export function electronLogFake(logFile: string) {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...parts: unknown[]) =>
      void lines.push(`${level} ${parts.join(' ')}`);
  const log = {
    initialize: () => undefined,
    transports: { file: { level: 'silly', getFile: () => ({ path: logFile }) } },
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return { log, lines };
}

/**
 * A `gdbus` in `dir`/bin that answers whether a StatusNotifierWatcher runs (the tray), so an
 * entry test does not depend on the desktop it runs on; returns the folder to put first on PATH.
 */
export function fakeGdbus(dir: string, tray: boolean): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'gdbus'), `#!/bin/sh\necho '(${tray},)'\n`);
  chmodSync(path.join(bin, 'gdbus'), 0o755);
  return bin;
}
