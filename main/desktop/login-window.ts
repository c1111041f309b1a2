/**
 * The login window: the gateway's own login page in a small window of the app, so nobody meets a
 * browser's warning about the gateway's certificate and nobody is told to click through it. It is
 * sandboxed, with no Node, no preload, and a session of its own, in memory only (a new partition
 * for each window: no cookie or password reaches the disk, nothing of the app's other sessions
 * applies, and Chromium's cached certificate decisions die with it). On that session the policy of
 * main/desktop/login-policy.ts decides every certificate, request, navigation, redirect and new
 * window. One window at a time; it closes itself when the session becomes ready. See
 * docs/desktop.md, "The login window".
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, Session } from 'electron';
import { randomUUID } from 'node:crypto';
import type { ActionResult } from '../session/keeper.ts';
import type { SessionState } from '../session/states.ts';
import { LoginPolicy, shownUrl, type LoginTarget } from './login-policy.ts';

export const LOGIN_WINDOW_SIZE = { width: 480, height: 640 } as const;
export const LOGIN_WINDOW_TITLE = 'Log in to the gateway';
/** The real gateway accepts the login page's request and never answers while IBKR is out of reach. */
export const LOGIN_LOAD_TIMEOUT_MS = 30_000;

export interface LoginWindowDeps {
  createWindow(options: BrowserWindowConstructorOptions): BrowserWindow;
  /** Electron's `session.fromPartition(partition, { cache: false })`. */
  sessionFor(partition: string): Session;
  /** DevTools can be opened (the installed app passes false). */
  devTools: boolean;
  icon?: string;
  log(line: string): void;
  /** The user is at the window (opened, focused): the keeper checks every 5 s (Keeper.openLoginPage). */
  onActive?(): void;
  loadTimeoutMs?: number;
  /** setTimeout; returns the function that cancels it (fake timers in tests). */
  after?(ms: number, run: () => void): () => void;
  /** A new in-memory partition's name (default `login-<uuid>`; never `persist:`). */
  partition?(): string;
}

export interface LoginWindowHandle {
  /** Opens the window on the gateway's login page, or brings the open one forward. */
  open(target: LoginTarget): ActionResult;
  /** Every state of the session: the window closes when it becomes `ready`. */
  sessionState(state: SessionState): void;
  isOpen(): boolean;
  close(): void;
}

/** The window's options: small, sandboxed, no Node, no preload, its own in-memory session. */
export function loginWindowOptions(
  deps: Pick<LoginWindowDeps, 'devTools' | 'icon'>,
  policy: LoginPolicy,
  partition: string,
): BrowserWindowConstructorOptions {
  return {
    ...LOGIN_WINDOW_SIZE,
    minWidth: 360,
    minHeight: 420,
    title: `${LOGIN_WINDOW_TITLE} (${policy.origin})`,
    icon: deps.icon,
    autoHideMenuBar: true,
    webPreferences: {
      partition,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: deps.devTools,
    },
  };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The window's own page for a login page that could not be shown: why, and a link to try again. */
export function problemPage(reason: string, loginUrl: string): string {
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${LOGIN_WINDOW_TITLE}</title>` +
    '<style>body{font:15px system-ui,sans-serif;margin:2rem;line-height:1.45;color:#222}' +
    'h1{font-size:1.15rem}@media (prefers-color-scheme:dark){body{background:#1e1e1e;color:#ddd}a{color:#8ab4f8}}' +
    '</style></head><body><h1>The login page could not be shown</h1>' +
    `<p>${escapeHtml(reason)}</p><p><a href="${escapeHtml(loginUrl)}">Try again</a></p></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

/** Why a load failed, in words: the refusal that caused it when there was one, else Chromium's error. */
export function describeLoadFailure(
  policy: LoginPolicy,
  failure: { code: number; description: string; url: string },
  refusal?: string,
): string {
  if (refusal !== undefined) return refusal;
  const error = failure.description || `error ${failure.code}`;
  if (/CONNECTION_REFUSED|ADDRESS_UNREACHABLE|NAME_NOT_RESOLVED|CONNECTION_RESET/.test(error))
    return `The gateway at ${policy.origin} does not answer (${error}): start it, then try again.`;
  return `${shownUrl(failure.url)} did not load (${error}).`;
}

export function setupLoginWindow(deps: LoginWindowDeps): LoginWindowHandle {
  const after =
    deps.after ??
    ((ms: number, run: () => void) => {
      const timer = setTimeout(run, ms);
      return () => clearTimeout(timer);
    });
  let current: { win: BrowserWindow; session: Session; sawNotReady: boolean } | undefined;
  const alive = (): BrowserWindow | undefined =>
    current !== undefined && !current.win.isDestroyed() ? current.win : undefined;

  const open = (target: LoginTarget): ActionResult => {
    const existing = alive();
    if (existing !== undefined) {
      existing.show();
      existing.focus();
      return { ok: true, message: 'The login window is open: log in there (the keeper checks every 5 s).' };
    }
    let policy: LoginPolicy;
    try {
      policy = new LoginPolicy(target.origin, target.fingerprint256);
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
    if (policy.unusable !== undefined) return { ok: false, message: `Not opened: ${policy.unusable}` };
    const partition = deps.partition?.() ?? `login-${randomUUID()}`;
    if (partition.startsWith('persist:')) throw new Error('The login window needs an in-memory partition.');
    const session = deps.sessionFor(partition);
    const win = deps.createWindow(loginWindowOptions(deps, policy, partition));
    const entry = { win, session, sawNotReady: target.state !== 'ready' };
    current = entry;
    const wc = win.webContents;
    /** The last refusal that can make the page fail: shown instead of Chromium's bare error. */
    let refusal: string | undefined;
    /** The window's own problem page, the one address outside the gateway it loads. */
    let ownPage: string | undefined;
    const logged = new Set<string>();
    const refuse = (reason: string, failsThePage: boolean): void => {
      if (failsThePage) refusal = reason;
      if (!logged.has(reason)) deps.log(`Login window: ${reason}`);
      logged.add(reason);
    };
    let cancelTimeout = (): void => undefined;
    const showProblem = (reason: string): void => {
      cancelTimeout();
      refusal = undefined;
      if (win.isDestroyed()) return;
      deps.log(`Login window: the login page could not be shown. ${reason}`);
      ownPage = problemPage(reason, policy.loginUrl);
      void win.loadURL(ownPage).catch(() => undefined);
    };

    /**
     * Every page the window loads may hang (the real gateway takes the login form's request and
     * never answers while IBKR is out of reach): each navigation gets its own deadline, cancelled
     * when a page loads or fails.
     */
    const armTimeout = (): void => {
      cancelTimeout();
      cancelTimeout = after(deps.loadTimeoutMs ?? LOGIN_LOAD_TIMEOUT_MS, () => {
        if (win.isDestroyed()) return;
        wc.stop();
        showProblem(
          `${policy.origin} accepted the connection but its login page did not answer within ` +
            `${Math.round((deps.loadTimeoutMs ?? LOGIN_LOAD_TIMEOUT_MS) / 1000)} s: the gateway may not reach IBKR ` +
            '(check this computer’s internet connection), or IBKR is restarting. Try again in a minute.',
        );
      });
    };

    session.setCertificateVerifyProc((request, callback) => {
      const decision = policy.certificate({ hostname: request.hostname }, request.certificate);
      if (!decision.ok) refuse(decision.reason, true);
      callback(decision.ok ? 0 : -2);
    });
    session.webRequest.onBeforeRequest((details, callback) => {
      if (details.url === ownPage) return callback({});
      const main = details.resourceType === 'mainFrame';
      const decision = policy.request(details.url, main ? 'navigation' : 'resource');
      if (!decision.ok) refuse(decision.reason, main);
      callback({ cancel: !decision.ok });
    });
    // No camera, notifications, clipboard or anything else a page may ask for; no downloads.
    session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.setPermissionCheckHandler(() => false);
    session.on('will-download', (event) => event.preventDefault());

    wc.setWindowOpenHandler(({ url }) => {
      refuse((policy.windowOpen(url) as { reason: string }).reason, false);
      return { action: 'deny' };
    });
    wc.on('will-navigate', (event) => {
      const decision = policy.request(event.url, 'navigation');
      if (decision.ok) return;
      event.preventDefault();
      refuse(decision.reason, false);
    });
    // A submitted form, "Try again" on the problem page, a link: a new page, a new deadline.
    wc.on('did-start-navigation', (details) => {
      if (!details.isMainFrame || details.isSameDocument) return;
      if (details.url === ownPage || details.url.startsWith('data:')) return;
      armTimeout();
    });
    wc.on('will-redirect', (event) => {
      const decision = policy.request(event.url, 'redirect');
      if (decision.ok) return;
      event.preventDefault();
      refuse(decision.reason, true);
    });
    wc.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
      if (!isMainFrame || url === ownPage || url.startsWith('data:')) return;
      // -3 (ERR_ABORTED): a newer navigation replaced this one, unless a refusal stopped it.
      if (code === -3 && refusal === undefined) return;
      showProblem(describeLoadFailure(policy, { code, description, url }, refusal));
    });
    wc.on('did-finish-load', () => {
      cancelTimeout();
      refusal = undefined;
    });
    wc.on('render-process-gone', (_event, details) => showProblem(`The page stopped (${details.reason}).`));
    // The title bar names the origin: the window has no address bar.
    win.on('page-title-updated', (event) => event.preventDefault());
    win.on('focus', () => deps.onActive?.());
    win.on('closed', () => {
      cancelTimeout();
      if (current === entry) current = undefined;
      // In memory only, and never used again: let its cookies go now.
      void session.clearStorageData().catch(() => undefined);
    });
    if (!deps.devTools) win.removeMenu();

    armTimeout();
    void win.loadURL(policy.loginUrl).catch(() => undefined); // a failure arrives as did-fail-load
    deps.onActive?.();
    deps.log(`Login window: opened ${policy.loginUrl}, trusting only SHA-256 ${policy.fingerprint256}.`);
    return {
      ok: true,
      message: `Opened the login window on ${policy.loginUrl}: log in there; it closes when the session is ready.`,
    };
  };

  return {
    open,
    isOpen: () => alive() !== undefined,
    close: () => alive()?.close(),
    sessionState: (state) => {
      const entry = current;
      if (entry === undefined || alive() === undefined) return;
      if (state !== 'ready') entry.sawNotReady = true;
      else if (entry.sawNotReady) {
        deps.log('Login window: the session is ready; closing the window.');
        entry.win.close();
      }
    },
  };
}
