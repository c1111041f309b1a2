/**
 * The login window's Electron adapter (main/desktop/login-window.ts) with small fakes of the
 * window and session APIs it uses: its security settings, its own in-memory session with the
 * policy installed on it, one window at a time, closing when the session is ready, and a page that
 * cannot load saying why. Certificates are the simulator's real ones.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import type { BrowserWindow, Session } from 'electron';
import { setupLoginWindow, type LoginWindowDeps } from '../../main/desktop/login-window.ts';
import { probeCertificate } from '../../main/session/tls.ts';
import type { SessionState } from '../../main/session/states.ts';
import { startSim } from '../helpers.ts';
import { FakeBrowserWindow, FakeSession } from './electron-fakes.ts';

function rig(options: Partial<LoginWindowDeps> = {}) {
  const logged: string[] = [];
  const timers: Array<{ ms: number; run: () => void; cancelled: boolean }> = [];
  let active = 0;
  const before = FakeBrowserWindow.all.length;
  const handle = setupLoginWindow({
    createWindow: (o) => new FakeBrowserWindow(o as Record<string, unknown>) as unknown as BrowserWindow,
    sessionFor: (partition) => FakeSession.fromPartition(partition, { cache: false }) as unknown as Session,
    devTools: false,
    log: (line) => void logged.push(line),
    onActive: () => void (active += 1),
    after: (ms, run) => {
      const timer = { ms, run, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    ...options,
  });
  const windows = (): FakeBrowserWindow[] => FakeBrowserWindow.all.slice(before);
  const sessionOf = (w: FakeBrowserWindow): FakeSession =>
    FakeSession.all.get((w.options['webPreferences'] as { partition: string }).partition)!;
  return { handle, logged, timers, windows, sessionOf, active: () => active };
}

const ORIGIN = 'https://127.0.0.1:5000';
const PIN = `${'AB:'.repeat(31)}AB`;
const target = (state: SessionState = 'login-required') => ({ origin: ORIGIN, fingerprint256: PIN, state });
/** The page the window shows when the login page cannot be: its text, decoded. */
const shown = (w: FakeBrowserWindow): string =>
  decodeURIComponent(w.url.replace(/^data:text\/html;charset=utf-8,/, ''));

async function simCertificate(t: TestContext) {
  const sim = await startSim(t, { loggedOut: true });
  const cert = await probeCertificate('127.0.0.1', Number(new URL(sim.url).port), 3_000);
  const fingerprint = `sha256/${createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('base64')}`;
  return { sim, data: cert.pem, fingerprint };
}

describe('the login window', () => {
  test('a small sandboxed window with no Node and no preload, on an in-memory session of its own', () => {
    const r = rig();
    const result = r.handle.open(target());
    assert.deepEqual(result, {
      ok: true,
      message: `Opened the login window on ${ORIGIN}/: log in there; it closes when the session is ready.`,
    });
    const [win] = r.windows();
    const o = win!.options as Record<string, any>;
    assert.deepEqual([o['width'], o['height']], [480, 640]);
    assert.equal(o['title'], `Log in to the gateway (${ORIGIN})`);
    const prefs = o['webPreferences'];
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, undefined);
    assert.equal(prefs.devTools, false, 'no DevTools in the installed app');
    assert.match(prefs.partition, /^login-[0-9a-f-]{36}$/, 'a partition of its own, never "persist:"');
    assert.equal(win!.menuRemoved, true);
    assert.equal(win!.url, `${ORIGIN}/`);
    // The title bar keeps naming the origin (there is no address bar): the page cannot rename it.
    let prevented = false;
    win!.emit('page-title-updated', { preventDefault: () => (prevented = true) }, 'Phishing');
    assert.equal(prevented, true);
    assert.match(r.logged[0]!, new RegExp(`opened ${ORIGIN}/, trusting only SHA-256 ${PIN}`));
    assert.ok(r.active() >= 1, 'the keeper checks every 5 s while the window is open');
  });

  test("its session's certificate check accepts exactly the pinned certificate for the gateway's host", async (t) => {
    const { sim, data, fingerprint } = await simCertificate(t);
    const other = await simCertificate(t);
    const r = rig();
    r.handle.open({ origin: sim.url, fingerprint256: sim.fingerprint256, state: 'login-required' });
    const session = r.sessionOf(r.windows()[0]!);
    assert.equal(session.verify('127.0.0.1', { data, fingerprint }), 0);
    assert.equal(session.verify('127.0.0.1', { data: other.data, fingerprint: other.fingerprint }), -2);
    assert.equal(session.verify('localhost', { data, fingerprint }), -2);
    assert.ok(r.logged.some((l) => l.includes(`not the trusted ${sim.fingerprint256}`)));
    // Nothing of it applies elsewhere: another window gets another session, with its own check.
    r.handle.close();
    r.handle.open({ origin: other.sim.url, fingerprint256: other.sim.fingerprint256, state: 'login-required' });
    const second = r.sessionOf(r.windows()[1]!);
    assert.notEqual(second, session);
    assert.equal(second.verify('127.0.0.1', { data, fingerprint }), -2);
    assert.equal(second.verify('127.0.0.1', { data: other.data, fingerprint: other.fingerprint }), 0);
  });

  test('requests, navigations and redirects leave the origin only to be refused; no new window, no permission', () => {
    const r = rig();
    r.handle.open(target());
    const win = r.windows()[0]!;
    const session = r.sessionOf(win);
    assert.equal(session.request(`${ORIGIN}/sso/Login?forwardTo=22`), true);
    assert.equal(session.request(`${ORIGIN}/sso/images/logo.png`, 'image'), true);
    assert.equal(session.request('https://api.ibkr.com/sso/Login', 'mainFrame'), false);
    assert.equal(session.request('https://www.google-analytics.com/collect', 'script'), false);
    assert.equal(session.request('http://127.0.0.1:5000/', 'mainFrame'), false);
    assert.equal(session.request('https://127.0.0.1:5001/', 'xhr'), false);
    assert.equal(win.webContents.navigate('will-navigate', 'https://evil.example/'), true);
    assert.equal(win.webContents.navigate('will-navigate', `${ORIGIN}/sso/Login`), false);
    assert.equal(win.webContents.navigate('will-redirect', 'https://api.ibkr.com/portal'), true);
    assert.deepEqual(win.webContents.openHandler!({ url: 'https://www.interactivebrokers.com/' }), { action: 'deny' });
    assert.deepEqual(win.webContents.openHandler!({ url: `${ORIGIN}/` }), { action: 'deny' });
    let granted: boolean | undefined;
    session.permissionRequest!(win.webContents, 'notifications', (g) => (granted = g));
    assert.equal(granted, false);
    assert.equal(session.permissionCheck!(), false);
    let download = false;
    session.emit('will-download', { preventDefault: () => (download = true) });
    assert.equal(download, true, 'no download');
    for (const refused of [
      'Refused a page to https://api.ibkr.com/sso/Login: the login window stays on https://127.0.0.1:5000.',
      'Refused a request to https://www.google-analytics.com/collect: ' +
        'the login window stays on https://127.0.0.1:5000.',
      'Refused a redirect to https://api.ibkr.com/portal: the login window stays on https://127.0.0.1:5000.',
    ])
      assert.ok(r.logged.includes(`Login window: ${refused}`), refused);
    assert.ok(
      r.logged.some((l) => l.startsWith('Login window: Refused a new window for https://www.interactivebrokers.com/')),
    );
  });

  test('one window at a time: "Log in" again brings it forward', () => {
    const r = rig();
    r.handle.open(target());
    const again = r.handle.open(target());
    assert.equal(again.ok, true);
    assert.match(again.message, /The login window is open/);
    assert.equal(r.windows().length, 1);
    assert.ok(r.windows()[0]!.focused >= 1);
    assert.equal(r.handle.isOpen(), true);
  });

  test('it closes itself when the session becomes ready, and its session is cleared', () => {
    const r = rig();
    r.handle.open(target('login-required'));
    const win = r.windows()[0]!;
    r.handle.sessionState('login-required');
    r.handle.sessionState('not-authenticated');
    assert.equal(win.isDestroyed(), false);
    r.handle.sessionState('ready');
    assert.equal(win.isDestroyed(), true);
    assert.equal(r.handle.isOpen(), false);
    assert.equal(r.sessionOf(win).cleared, 1, 'its cookies are let go at once');
    assert.ok(r.logged.includes('Login window: the session is ready; closing the window.'));
    // Opened while the session was ready (to log in as someone else): it stays until the next login.
    r.handle.open(target('ready'));
    const second = r.windows()[1]!;
    assert.notEqual(r.sessionOf(second), r.sessionOf(win), 'a new in-memory session for each window');
    r.handle.sessionState('ready');
    assert.equal(second.isDestroyed(), false);
    r.handle.sessionState('login-required');
    r.handle.sessionState('ready');
    assert.equal(second.isDestroyed(), true);
  });

  test('focusing the window again keeps the keeper checking every 5 s', () => {
    const r = rig();
    r.handle.open(target());
    const before = r.active();
    r.windows()[0]!.emit('focus');
    assert.equal(r.active(), before + 1);
  });

  test('no pinned certificate, or an address that is not https: no window, and the reason', () => {
    const r = rig();
    const none = r.handle.open({ origin: ORIGIN, fingerprint256: undefined, state: 'login-required' });
    assert.equal(none.ok, false);
    assert.match(none.message, /^Not opened: No certificate is trusted for https:\/\/127\.0\.0\.1:5000 yet/);
    const http = r.handle.open({ origin: 'http://127.0.0.1:5000', fingerprint256: PIN, state: 'login-required' });
    assert.equal(http.ok, false);
    assert.match(http.message, /only an https gateway/);
    assert.equal(r.windows().length, 0);
  });

  test('a page that cannot load says why: gateway down, refused redirect, refused certificate', async (t) => {
    const { sim, data } = await simCertificate(t);
    const r = rig();
    r.handle.open(target());
    const win = r.windows()[0]!;
    win.webContents.emit('did-fail-load', {}, -102, 'ERR_CONNECTION_REFUSED', `${ORIGIN}/`, true);
    assert.match(
      shown(win),
      /<p>The gateway at https:\/\/127\.0\.0\.1:5000 does not answer \(ERR_CONNECTION_REFUSED\): start it, then try/,
    );
    assert.match(shown(win), /<a href="https:\/\/127\.0\.0\.1:5000\/">Try again<\/a>/);
    assert.match(shown(win), /default-src 'none'/, 'the page runs no script');
    // Its own page is the one address outside the gateway the window loads; the link back is allowed.
    assert.equal(r.sessionOf(win).request(win.url), true);
    assert.equal(win.webContents.navigate('will-navigate', `${ORIGIN}/`), false);
    // A redirect away from the gateway: the refusal is the reason, not Chromium's bare "aborted".
    win.webContents.emit('did-finish-load');
    win.webContents.navigate('will-redirect', 'https://api.ibkr.com/sso/Login');
    win.webContents.emit('did-fail-load', {}, -3, 'ERR_ABORTED', `${ORIGIN}/`, true);
    assert.match(shown(win), /Refused a redirect to https:\/\/api\.ibkr\.com\/sso\/Login/);
    // Another certificate at the gateway's address.
    win.webContents.emit('did-finish-load');
    assert.equal(r.sessionOf(win).verify('127.0.0.1', { data }), -2);
    win.webContents.emit('did-fail-load', {}, -2, 'ERR_FAILED', `${ORIGIN}/`, true);
    assert.match(shown(win), new RegExp(`it is SHA-256 ${sim.fingerprint256}, not the trusted ${PIN}`));
    // A page replaced by the next one (-3 without a refusal), or a frame's failure, changes nothing.
    win.webContents.emit('did-finish-load');
    const before = win.url;
    win.webContents.emit('did-fail-load', {}, -3, 'ERR_ABORTED', `${ORIGIN}/x`, true);
    win.webContents.emit('did-fail-load', {}, -105, 'ERR_NAME_NOT_RESOLVED', 'https://ads.example/', false);
    assert.equal(win.url, before);
  });

  test('a login page that never answers (the gateway cannot reach IBKR) is said after 30 s', () => {
    const r = rig();
    r.handle.open(target());
    const win = r.windows()[0]!;
    const timer = r.timers[0]!;
    assert.equal(timer.ms, 30_000);
    timer.run();
    assert.equal(win.webContents.stopped, 1);
    assert.match(shown(win), /accepted the connection but its login page did not answer within 30 s/);
    // Loaded in time: nothing is said.
    r.handle.close();
    r.handle.open(target());
    r.windows()[1]!.webContents.emit('did-finish-load');
    assert.equal(r.timers[1]!.cancelled, true);
  });

  test('every page the window starts gets its 30 s: "Try again", a submitted form that hangs', () => {
    const r = rig();
    r.handle.open(target());
    const win = r.windows()[0]!;
    const wc = win.webContents;
    const live = () => r.timers.filter((timer) => !timer.cancelled);
    r.timers[0]!.run();
    assert.match(shown(win), /did not answer within 30 s/);
    // The problem page itself has no deadline: it is the window's own.
    wc.startNavigation(win.url);
    wc.emit('did-finish-load');
    assert.deepEqual([r.timers.length, live().length], [1, 0], 'only the one that already ran');
    // "Try again": the login page is asked anew, and hangs anew.
    assert.equal(wc.navigate('will-navigate', `${ORIGIN}/`), false);
    wc.startNavigation(`${ORIGIN}/`);
    const again = r.timers.at(-1)!;
    assert.deepEqual([r.timers.length, again.ms, again.cancelled], [2, 30_000, false]);
    win.url = `${ORIGIN}/`;
    again.run();
    assert.equal(wc.stopped, 2);
    assert.match(shown(win), /did not answer within 30 s/, 'said again, not a window that waits forever');
    // The login page loads; the person submits the form; the gateway never answers.
    wc.startNavigation(`${ORIGIN}/`);
    wc.emit('did-finish-load');
    assert.equal(r.timers.at(-1)!.cancelled, true, 'loaded in time: nothing said');
    const beforeFrames = r.timers.length;
    wc.startNavigation(`${ORIGIN}/sso/images/frame.html`, { isMainFrame: false });
    wc.startNavigation(`${ORIGIN}/#step2`, { isSameDocument: true });
    assert.equal(r.timers.length, beforeFrames, 'a frame or a fragment is no new page');
    win.url = `${ORIGIN}/sso/Authenticator`;
    wc.startNavigation(`${ORIGIN}/sso/Authenticator`);
    const submitted = r.timers.at(-1)!;
    assert.equal(submitted.cancelled, false);
    submitted.run();
    assert.equal(wc.stopped, 3);
    assert.match(shown(win), /did not answer within 30 s/);
    // A newer page replaces the previous deadline rather than adding one.
    wc.startNavigation(`${ORIGIN}/`);
    wc.startNavigation(`${ORIGIN}/sso/Login`);
    assert.deepEqual(
      live().map((timer) => timer === r.timers.at(-1)),
      [true],
    );
    r.handle.close();
    assert.deepEqual(live(), [], 'closed: no deadline left');
  });
});
