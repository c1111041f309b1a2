/**
 * The login window's adapter (main/desktop/login-window.ts) driven in real Chromium (Debian's,
 * through Playwright), where Electron cannot start: the parts of BrowserWindow and Session it uses,
 * each mapped to Chromium as closely as Playwright allows.
 *
 * - A session (partition) is a Chromium of its own, with a new temporary profile and home.
 * - Certificates: Electron's verify proc cannot be installed in Chromium, so the session trusts
 *   what the proc would, exactly the pinned certificate, through the key: Chromium is launched with
 *   `--ignore-certificate-errors-spki-list=<base64 SHA-256 of the pinned certificate's SPKI>`,
 *   which lets that one key past the checks of dates, names and chain, and nothing else. (It is
 *   not bound to an origin: the request rule below keeps the window on its origin.)
 * - Requests: CDP's Fetch domain pauses every request, each hop of a redirect included (Playwright's
 *   page.route sees only the first URL of a redirect), and the adapter's `onBeforeRequest` listener
 *   decides; before it, a page load the page started is `will-navigate`, a redirect `will-redirect`,
 *   and a load either prevents is aborted, as in Electron.
 * - Loads: a failed main-frame load is `did-fail-load` with Chromium's error; a load is
 *   `did-finish-load`. `close()` closes that Chromium, then `closed`.
 * - Every host but 127.0.0.1 resolves to nothing, so nothing leaves the machine whatever happens.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { BrowserWindow, BrowserWindowConstructorOptions, Session } from 'electron';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import type { LoginWindowDeps } from '../main/desktop/login-window.ts';
import { tempDir } from './helpers.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './renderer-harness.ts';

/** Every host name but 127.0.0.1 resolves to nothing: nothing the page asks for leaves this computer. */
const ARGS = [...CHROMIUM_ARGS, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

/** Base64 SHA-256 of a certificate's SubjectPublicKeyInfo: what Chromium's SPKI list names. */
export function spkiHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Chromium's net error codes for the errors these tests meet (net/base/net_error_list.h). */
const NET_ERRORS: Record<string, number> = {
  ERR_FAILED: -2,
  ERR_ABORTED: -3,
  ERR_BLOCKED_BY_CLIENT: -20,
  ERR_CONNECTION_REFUSED: -102,
  ERR_NAME_NOT_RESOLVED: -105,
  ERR_CERT_COMMON_NAME_INVALID: -200,
  ERR_CERT_DATE_INVALID: -201,
  ERR_CERT_AUTHORITY_INVALID: -202,
};

type BeforeRequest = (
  details: { url: string; resourceType: string },
  callback: (r: { cancel?: boolean }) => void,
) => void;

export class ChromiumSession extends EventEmitter {
  verifyProc: unknown;
  beforeRequest: BeforeRequest | undefined;
  permissionRequest: unknown;
  cleared = 0;
  readonly partition: string;
  readonly webRequest = { onBeforeRequest: (listener: BeforeRequest) => void (this.beforeRequest = listener) };
  constructor(partition: string) {
    super();
    this.partition = partition;
  }
  setCertificateVerifyProc(proc: unknown): void {
    this.verifyProc = proc;
  }
  setPermissionRequestHandler(handler: unknown): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(): void {}
  async clearStorageData(): Promise<void> {
    this.cleared += 1;
  }
}

class ChromiumWebContents extends EventEmitter {
  page: Page | undefined;
  openHandler: unknown;
  setWindowOpenHandler(handler: unknown): void {
    this.openHandler = handler;
  }
  stop(): void {
    void this.page?.evaluate(() => window.stop()).catch(() => undefined);
  }
}

export class ChromiumWindow extends EventEmitter {
  readonly webContents = new ChromiumWebContents();
  readonly options: BrowserWindowConstructorOptions;
  readonly session: ChromiumSession;
  /** Every request Chromium asked about, and whether it went ahead. */
  readonly requests: Array<{ url: string; allowed: boolean }> = [];
  readonly ready: Promise<Page>;
  #context: BrowserContext | undefined;
  #cdp: CDPSession | undefined;
  #mainFrameId = '';
  /** The page the adapter asked for (loadURL): not a navigation of the page's own. */
  #loading: string | undefined;
  #destroyed = false;

  constructor(t: TestContext, options: BrowserWindowConstructorOptions, session: ChromiumSession, pinnedPem?: string) {
    super();
    this.options = options;
    this.session = session;
    this.ready = this.#launch(t, pinnedPem);
    this.ready.catch(() => undefined);
  }

  async #launch(t: TestContext, pinnedPem: string | undefined): Promise<Page> {
    const home = tempDir(t);
    const args =
      pinnedPem === undefined ? ARGS : [...ARGS, `--ignore-certificate-errors-spki-list=${spkiHash(pinnedPem)}`];
    const context = await chromium.launchPersistentContext(path.join(home, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args,
      viewport: { width: this.options.width ?? 800, height: this.options.height ?? 600 },
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
      },
    });
    this.#context = context;
    t.after(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    this.#cdp = cdp;
    this.#mainFrameId = (
      (await cdp.send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } }
    ).frameTree.frame.id;
    cdp.on('Fetch.requestPaused', (event) => this.#paused(event));
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
    page.on('requestfailed', (request) => {
      if (request.frame() !== page.mainFrame() || !request.isNavigationRequest()) return;
      const error = (request.failure()?.errorText ?? 'net::ERR_FAILED').replace(/^net::/, '');
      this.webContents.emit('did-fail-load', {}, NET_ERRORS[error] ?? -2, error, request.url(), true);
    });
    page.on('load', () => this.webContents.emit('did-finish-load'));
    this.webContents.page = page;
    return page;
  }

  #paused(event: {
    requestId: string;
    request: { url: string };
    resourceType: string;
    frameId: string;
    redirectedRequestId?: string;
  }): void {
    const cdp = this.#cdp!;
    const { url } = event.request;
    const answer = (allowed: boolean, reason: 'BlockedByClient' | 'Aborted' = 'BlockedByClient'): void => {
      this.requests.push({ url, allowed });
      const sent = allowed
        ? cdp.send('Fetch.continueRequest', { requestId: event.requestId })
        : cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: reason });
      sent.catch(() => undefined);
    };
    const mainFrame = event.resourceType === 'Document' && event.frameId === this.#mainFrameId;
    if (mainFrame) {
      const redirect = event.redirectedRequestId !== undefined;
      const asked = !redirect && url === this.#loading;
      this.#loading = undefined;
      if (!asked) {
        let prevented = false;
        const name = redirect ? 'will-redirect' : 'will-navigate';
        this.webContents.emit(name, { url, preventDefault: () => void (prevented = true) }, url);
        if (prevented) return answer(false, 'Aborted');
      }
    }
    const listener = this.session.beforeRequest;
    if (listener === undefined) return answer(true);
    const resourceType = mainFrame ? 'mainFrame' : event.resourceType === 'Document' ? 'subFrame' : 'other';
    listener({ url, resourceType }, (response) => answer(response.cancel !== true));
  }

  async loadURL(url: string): Promise<void> {
    const page = await this.ready;
    this.#loading = url;
    // A failure arrives as did-fail-load, as in Electron.
    await page.goto(url).catch(() => undefined);
    if (this.#loading === url) this.#loading = undefined;
  }

  /** The page's text now (the login form, or the window's own page saying why). */
  async text(): Promise<string> {
    return (await this.ready).locator('body').innerText();
  }

  show(): void {}
  focus(): void {}
  removeMenu(): void {}
  isDestroyed(): boolean {
    return this.#destroyed;
  }
  close(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    void this.ready
      .then(() => this.#context?.close())
      .catch(() => undefined)
      .then(() => this.emit('closed'));
  }
}

/**
 * `createWindow` and `sessionFor` for setupLoginWindow, in Chromium; `pinnedPem` is read when a
 * window opens: the certificate its session trusts (undefined: Chromium's own checks alone).
 */
export function chromiumElectron(t: TestContext, pinnedPem: () => string | undefined) {
  const sessions = new Map<string, ChromiumSession>();
  const windows: ChromiumWindow[] = [];
  const deps: Pick<LoginWindowDeps, 'createWindow' | 'sessionFor'> = {
    sessionFor: (partition) => {
      if (partition.startsWith('persist:')) throw new Error(`a persistent partition: ${partition}`);
      const session = sessions.get(partition) ?? new ChromiumSession(partition);
      sessions.set(partition, session);
      return session as unknown as Session;
    },
    createWindow: (options) => {
      const partition = String(options.webPreferences?.partition);
      const w = new ChromiumWindow(t, options, sessions.get(partition)!, pinnedPem());
      windows.push(w);
      return w as unknown as BrowserWindow;
    },
  };
  return { deps, windows, sessions };
}
