/**
 * The login window's page part in real Chromium (test/login-chromium.ts maps the adapter's
 * Electron calls to it): the simulator's login page, trusted by exactly the pinned certificate,
 * logged in through its form, with the real keeper (the desktop core against the simulator over
 * HTTPS) reaching ready and the window closing by itself; a gateway with another certificate and
 * pages elsewhere refused, each with what the window then says.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DesktopCore } from '../../main/desktop/core.ts';
import { setupLoginWindow } from '../../main/desktop/login-window.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { realClock, realScheduler } from '../../main/session/time.ts';
import { probeCertificate } from '../../main/session/tls.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import type { Simulator } from '../../main/simulator/server.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';
import { chromiumElectron, type ChromiumWindow } from '../login-chromium.ts';

// `npm run screenshots` writes them to docs/screenshots; `npm test` to dist/screenshots.
const SHOTS = path.resolve(ROOT, process.env['SCREENSHOTS_DIR'] ?? 'dist/screenshots');
mkdirSync(SHOTS, { recursive: true });
const shot = async (w: ChromiumWindow, name: string): Promise<void> =>
  void (await (await w.ready).screenshot({ path: path.join(SHOTS, `${name}.png`) }));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The app's login window in Chromium, for `sim`; `pem()` is the certificate its session trusts. */
function loginWindowFor(t: TestContext, pem: () => string | undefined, onActive?: () => void) {
  const logged: string[] = [];
  const chromium = chromiumElectron(t, pem);
  const handle = setupLoginWindow({ ...chromium.deps, devTools: false, log: (l) => void logged.push(l), onActive });
  t.after(() => handle.close());
  return { handle, logged, windows: chromium.windows };
}

const onLoginPage = (w: ChromiumWindow) => async () =>
  !w.isDestroyed() && (await w.ready).url().includes('/sso/Login') && /Username/.test(await w.text());

/** What the simulator was asked on its login page and elsewhere, its API aside. */
const pagesAsked = (sim: Simulator): string[] =>
  sim
    .requests()
    .map((r) => `${r.method} ${r.path}`)
    .filter((r) => !r.includes(' /v1/api/'));

describe('the login window in Chromium', () => {
  test('Log in: the page trusted by its pin, the form logs in, the keeper gets ready, the window closes', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const dir = tempDir(t);
    const settings = SettingsFile.open(dir);
    settings.write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 60 });
    const trust = new TrustStore(dir);
    let core: DesktopCore | undefined;
    const w = loginWindowFor(
      t,
      () => trust.get(sim.url)?.pem,
      () => void core?.keeper.openLoginPage(),
    );
    core = new DesktopCore({
      configDir: dir,
      settings,
      clock: realClock,
      scheduler: realScheduler,
      notifier: { show: async () => undefined },
      openExternal: async () => assert.fail('the browser is not opened'),
      openLoginWindow: (target) => w.handle.open(target),
      applyLaunchAtLogin: () => undefined,
      timeoutMs: 3_000,
    });
    const app = core;
    app.on('state', (s) => w.handle.sessionState(s.status.state));
    t.after(() => app.stop());
    app.start();
    await until('login required', () => app.state().status.state === 'login-required');
    // The pin the keeper recorded on first use is the certificate the simulator presents.
    const presented = await probeCertificate('127.0.0.1', Number(new URL(sim.url).port), 3_000);
    assert.equal(trust.get(sim.url)?.fingerprint256, presented.fingerprint256);

    const opened = await app.act('open-login-page');
    assert.equal(opened.ok, true, opened.message);
    const win = w.windows[0]!;
    await until('the login page', onLoginPage(win));
    const page = await win.ready;
    assert.equal(await page.title(), 'Client Portal Gateway (simulator): log in');
    assert.equal(page.url(), `${sim.url}/sso/Login?forwardTo=22&RL=1&ip2loc=US`);
    await shot(win, 'login-window');
    await page.fill('#password', 'anything');
    await page.click('button[type="submit"]');
    // The keeper checks every 5 s while the window is open: ready, and the window closes by itself.
    await until('the window to close', () => win.isDestroyed(), 15_000);
    assert.equal(app.state().status.state, 'ready');
    assert.ok(w.logged.includes('Login window: the session is ready; closing the window.'));
    assert.deepEqual(
      pagesAsked(sim).filter((p) => p.includes('/sso/')),
      ['GET /sso/Login', 'POST /sso/Login'],
    );
    // Nothing went anywhere but the gateway's origin; the gateway's redirect of /favicon.ico to
    // api.ibkr.com was refused.
    for (const r of win.requests.filter((r) => r.allowed)) assert.ok(r.url.startsWith(`${sim.url}/`), r.url);
    assert.ok(win.requests.some((r) => !r.allowed && r.url === 'https://api.ibkr.com/favicon.ico'));
    await until("its session's cookies to be let go", () => win.session.cleared === 1);
  });

  test('a gateway with another certificate with the same names does not load, and the window says why', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const port = Number(new URL(sim.url).port);
    const pinned = await probeCertificate('127.0.0.1', port, 3_000);
    // The control: the pinned certificate alone lets Chromium load the page...
    const trusting = loginWindowFor(t, () => pinned.pem);
    trusting.handle.open({ origin: sim.url, fingerprint256: pinned.fingerprint256, state: 'login-required' });
    await until('the login page with the pin', onLoginPage(trusting.windows[0]!));
    trusting.handle.close();
    // ...which Chromium refuses without it (expired, no subjectAltName, self-signed).
    const plain = loginWindowFor(t, () => undefined);
    plain.handle.open({ origin: sim.url, fingerprint256: pinned.fingerprint256, state: 'login-required' });
    await until('the refusal without the pin', async () => /could not be shown/.test(await plain.windows[0]!.text()));
    assert.match(await plain.windows[0]!.text(), /did not load \(ERR_CERT_(AUTHORITY|DATE|COMMON_NAME)_INVALID\)/);
    plain.handle.close();
    // The gateway now presents a new certificate (same names, a new key): the old pin refuses it.
    await sim.apply({ type: 'rotate-certificate' });
    const rotated = await probeCertificate('127.0.0.1', port, 3_000);
    assert.notEqual(rotated.fingerprint256, pinned.fingerprint256);
    assert.equal(rotated.subject, pinned.subject);
    sim.clearRequests();
    const w = loginWindowFor(t, () => pinned.pem);
    w.handle.open({ origin: sim.url, fingerprint256: pinned.fingerprint256, state: 'login-required' });
    const win = w.windows[0]!;
    await until('the window to say why', async () => /could not be shown/.test(await win.text()));
    assert.match(await win.text(), /did not load \(ERR_CERT_AUTHORITY_INVALID\)/);
    assert.match(await win.text(), /Try again/);
    assert.deepEqual(pagesAsked(sim), [], 'not one request reached the gateway');
  });

  test('a page elsewhere, a request elsewhere and the redirect to api.ibkr.com are refused', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const other = await startSim(t, { loggedOut: true });
    const pinned = await probeCertificate('127.0.0.1', Number(new URL(sim.url).port), 3_000);
    const w = loginWindowFor(t, () => pinned.pem);
    w.handle.open({ origin: sim.url, fingerprint256: pinned.fingerprint256, state: 'login-required' });
    const win = w.windows[0]!;
    await until('the login page', onLoginPage(win));
    const page = await win.ready;
    // A link to another origin (here another gateway on another port): the window stays.
    await page.evaluate((url) => void (location.href = url), `${other.url}/sso/Login`);
    await until('the refusal', () => w.logged.some((l) => l.includes(`Refused a page to ${other.url}/sso/Login`)));
    await page.waitForLoadState();
    assert.equal(page.url(), `${sim.url}/sso/Login?forwardTo=22&RL=1&ip2loc=US`);
    // What a page fetches from elsewhere is cancelled before a connection.
    const fetched = await page.evaluate(
      (url) =>
        fetch(url, { mode: 'no-cors' }).then(
          () => 'answered',
          (e: Error) => e.message,
        ),
      `${other.url}/v1/api/tickle`,
    );
    assert.notEqual(fetched, 'answered');
    assert.deepEqual(pagesAsked(other), []);
    assert.equal(other.counts()['/v1/api/tickle'], undefined);
    // A page of the gateway that it redirects to IBKR's servers: refused, and the window says so.
    await page.evaluate((url) => void (location.href = url), `${sim.url}/portal/index.html`);
    await until('the window to say why', async () => /could not be shown/.test(await win.text()));
    assert.match(
      await win.text(),
      new RegExp(
        `Refused a redirect to https://api\\.ibkr\\.com/portal/index\\.html: the login window stays on ${sim.url}`,
      ),
    );
    assert.equal(
      win.requests.filter((r) => r.url.startsWith('https://api.ibkr.com/')).some((r) => r.allowed),
      false,
    );
    await shot(win, 'login-window-refused');
    // Its link goes back to the login page.
    await page.click('text=Try again');
    await until('the login page again', onLoginPage(win));
  });
});
