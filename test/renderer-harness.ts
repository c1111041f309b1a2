/**
 * The details window in Debian's Chromium (Playwright), at the popover's size, connected to a real
 * desktop core (keeper, settings, history, trust) and the simulator. Only Electron's IPC transport
 * is replaced: the page's `window.keeper` calls the same handlers the IPC adapter registers,
 * through a Playwright binding, and every state the core emits is pushed to the page as the main
 * process would. A test can make a channel fail, as a broken main process would.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DesktopCore } from '../main/desktop/core.ts';
import { History } from '../main/session/history.ts';
import type { SessionState } from '../main/session/states.ts';
import { createHandlers } from '../main/desktop/handlers.ts';
import type { Notification } from '../main/session/notifications.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../main/session/settings.ts';
import { realClock, realScheduler } from '../main/session/time.ts';
import { TrustStore } from '../main/session/trust-store.ts';
import type { Simulator } from '../main/simulator/server.ts';
import { WINDOW_SIZE } from '../main/desktop/windows.ts';
import type { DesktopInfo, InvokeChannel } from '../main/contract.ts';
import type { Settings } from '../main/session/settings.ts';
import { ROOT, startSim, tempDir } from './helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Debian's Chromium, headless, as these machines run it (no sandbox, GPU or background traffic). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Serves dist/renderer on 127.0.0.1, as the app's own files (the icons in icons/ among them). */
async function serveRenderer(t: TestContext): Promise<string> {
  const dir = path.join(ROOT, 'dist/renderer');
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.map': 'application/json',
    '.png': 'image/png',
  };
  const server: Server = createServer(async (req, res) => {
    const name =
      path.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^[/\\]+/, '') ||
      'index.html';
    try {
      if (name.startsWith('..')) throw new Error('outside dist/renderer');
      const body = await readFile(path.join(dir, name));
      res.writeHead(200, { 'content-type': types[path.extname(name)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;
}

let browser: Browser | undefined;

/** One Chromium for the whole test file. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) to run the ` +
        `window tests.`,
    );
  // Chromium keeps files in the home folder (~/.pki/nssdb, ~/.config, ~/.cache): a temporary one.
  chromiumHome ??= mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-chromium-home-'));
  const env = {
    ...process.env,
    HOME: chromiumHome,
    XDG_CONFIG_HOME: path.join(chromiumHome, '.config'),
    XDG_CACHE_HOME: path.join(chromiumHome, '.cache'),
  };
  browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, env });
  return browser;
}

let chromiumHome: string | undefined;

export async function closeChromium(): Promise<void> {
  await browser?.close();
  browser = undefined;
  if (chromiumHome !== undefined) rmSync(chromiumHome, { recursive: true, force: true });
  chromiumHome = undefined;
}

export interface WindowRig {
  page: Page;
  sim: Simulator;
  core: DesktopCore;
  dir: string;
  /** URLs opened in the browser; files opened with the system's viewer as `path:<file>`. */
  opened: string[];
  /** What the folder dialog answers next, one per "Choose…" (undefined: cancelled); each asked is in `asked`. */
  folders: Array<string | undefined>;
  /** The folder each folder dialog opened in. */
  asked: Array<string | undefined>;
  launchAtLogin: boolean[];
  notes: Notification[];
  /** Messages the page logged as errors (CSP violations among them). */
  errors: string[];
  /** Makes every request on `channel` fail with `message` from now on (as a broken main process), or work again
   * (undefined). */
  fail(channel: InvokeChannel, message: string | undefined): void;
  /** Pushes the core's state now, as the main process does after every step of the keeper. */
  push(): void;
}

export interface WindowOptions {
  intervalSeconds?: number;
  /** Launch at login as settings.json has it (default: undecided, null). */
  launchAtLogin?: Settings['launchAtLogin'];
  /** The simulator starts with nobody logged in. */
  loggedOut?: boolean;
  colorScheme?: 'light' | 'dark';
  /** Fail these channels before the page even loads. */
  failing?: Partial<Record<InvokeChannel, string>>;
  /** A certificate fingerprint the trust store holds for the simulator's address before the start. */
  pin?: string;
  /** Leave the keeper stopped (the test starts it with rig.core.start()). */
  stopped?: boolean;
  /** Every notification fails with this message (as a desktop with no notification service). */
  failNotifications?: string;
  /** What the desktop reports (launch at login read back, the tray, the log file). */
  desktop?: DesktopInfo;
  /** Settings over the test's own (e.g. a gateway address nothing answers at, a gateway folder). */
  settings?: Partial<Settings>;
  /** What opening a file answers ('' for success, as shell.openPath). */
  openPathAnswer?: string;
}

export async function openDetailsWindow(t: TestContext, options: WindowOptions = {}): Promise<WindowRig> {
  const sim = await startSim(t, { loggedOut: options.loggedOut, settings: { reauthLatencyMs: 1_000 } });
  const dir = tempDir(t);
  // Yesterday's runs, as the history keeps them: the timeline has a day to show.
  const history = new History(dir);
  const day: Array<[number, SessionState, string]> = [
    [23, 'ready', 'Authenticated and connected to IBKR as simuser1 (paper).'],
    [
      15,
      'not-authenticated',
      'The brokerage session has ended (timed out or logged out); the login itself is still valid.',
    ],
    [14.99, 'ready', 'Authenticated and connected to IBKR as simuser1 (paper).'],
    [9, 'gateway-down', 'The gateway answers HTTP 503: IBKR may be restarting (daily reset or maintenance).'],
    [8.5, 'ready', 'Authenticated and connected to IBKR as simuser1 (paper).'],
    [4, 'competing', 'Another login holds the session (TWS, mobile or another gateway).'],
    [3, 'ready', 'Authenticated and connected to IBKR as simuser1 (paper).'],
    [0.5, 'paused', 'Keeping alive is paused: the session will time out after about 5 minutes without requests.'],
  ];
  let previous: SessionState | null = null;
  for (const [hoursAgo, state, reason] of day) {
    history.append({
      time: new Date(Date.now() - hoursAgo * 3_600_000).toISOString(),
      state,
      previous,
      reason,
      facts: {},
    });
    previous = state;
  }
  if (options.pin) new TrustStore(dir).record(sim.url, { fingerprint256: options.pin, source: 'user' });
  const settings = SettingsFile.open(dir);
  settings.write({
    ...DEFAULT_SETTINGS,
    gateway: sim.url,
    intervalSeconds: options.intervalSeconds ?? 2,
    launchAtLogin: options.launchAtLogin ?? null,
    ...options.settings,
  });
  const opened: string[] = [];
  const folders: Array<string | undefined> = [];
  const asked: Array<string | undefined> = [];
  const launchAtLogin: boolean[] = [];
  const notes: Notification[] = [];
  const core: DesktopCore = new DesktopCore({
    configDir: dir,
    settings,
    clock: realClock,
    scheduler: realScheduler,
    notifier: {
      show: async (n): Promise<void> => {
        if (options.failNotifications !== undefined)
          return core.notificationFailed(
            `Could not show the notification "${n.title}" (${options.failNotifications}).`,
          );
        notes.push(n);
      },
    },
    desktop: options.desktop && (() => options.desktop!),
    openExternal: async (url) => void opened.push(url),
    openPath: async (file) => {
      opened.push(`path:${file}`);
      return options.openPathAnswer ?? '';
    },
    chooseFolder: async (defaultPath) => {
      asked.push(defaultPath);
      return folders.shift();
    },
    applyLaunchAtLogin: (enabled) => void launchAtLogin.push(enabled),
    timeoutMs: 3_000,
  });
  const handlers = createHandlers(core);
  const page = await (await launchChromium()).newPage({
    viewport: { ...WINDOW_SIZE },
    colorScheme: options.colorScheme ?? 'light',
  });
  const failing = new Map<InvokeChannel, string>(
    Object.entries(options.failing ?? {}) as Array<[InvokeChannel, string]>,
  );
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.exposeBinding('__keeperInvoke', async (_source, channel: InvokeChannel, request: unknown) => {
    const failure = failing.get(channel);
    if (failure !== undefined) throw new Error(failure);
    return handlers[channel](request);
  });
  await page.addInitScript(() => {
    const listeners = new Set<(s: unknown) => void>();
    const w = window as unknown as {
      keeper: unknown;
      __keeperPush: (s: unknown) => void;
      __keeperInvoke: (c: string, r: unknown) => Promise<unknown>;
    };
    w.__keeperPush = (state) => listeners.forEach((l) => l(state));
    w.keeper = {
      invoke: (channel: string, request: unknown) => w.__keeperInvoke(channel, request),
      onState: (listener: (s: unknown) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
  });
  const push = (state: unknown): void => {
    if (!page.isClosed())
      page
        .evaluate((s) => (window as unknown as { __keeperPush: (s: unknown) => void }).__keeperPush(s), state)
        .catch(() => undefined);
  };
  core.on('state', push);
  t.after(async () => {
    core.off('state', push);
    await core.stop();
    await page.close();
  });
  await page.goto(await serveRenderer(t));
  if (!options.stopped) core.start();
  const fail = (channel: InvokeChannel, message: string | undefined): void =>
    void (message === undefined ? failing.delete(channel) : failing.set(channel, message));
  return {
    page,
    sim,
    core,
    dir,
    opened,
    folders,
    asked,
    launchAtLogin,
    notes,
    errors,
    fail,
    push: () => push(core.state()),
  };
}
