/**
 * The whole app under Playwright's `_electron`: launch, tray state, menu actions, window. Needs
 * Electron's binary, which cannot be downloaded on the project's CI machines; run it with
 * `npm run test:electron` on a desktop where `npx install-electron` has fetched it. Not part of
 * `npm test`, so nothing in the main suite is skipped.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';

const executablePath = createRequire(import.meta.url)('electron') as string;

/**
 * Loaded with Electron's `--require` before the app: records what the app gives its tray (the
 * tooltip and the menu), so the test reads and clicks the real menu. The app has no test hook.
 */
const TRAY_PROBE = `
const { Tray } = require('electron');
for (const name of ['setToolTip', 'setContextMenu']) {
  const original = Tray.prototype[name];
  Tray.prototype[name] = function (value) {
    (globalThis.trayProbe ??= {})[name] = value;
    return original.call(this, value);
  };
}
`;
let app: ElectronApplication | undefined;
let loginApp: ElectronApplication | undefined;
after(() => Promise.all([app?.close(), loginApp?.close()]));

describe('the desktop app', () => {
  test('starts in the tray, follows the simulator, and its window acts on it', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
    const dir = tempDir(t);
    SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 2 });
    const probe = path.join(tempDir(t), 'tray-probe.cjs');
    writeFileSync(probe, TRAY_PROBE);
    const home = tempDir(t);
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      IBKR_KEEPER_CONFIG_DIR: dir,
      IBKR_KEEPER_SHOW_DETAILS: '1',
    };
    app = await electron.launch({ executablePath, args: ['--require', probe, ROOT], env });
    const page = await app.firstWindow();
    await page.waitForSelector('header[data-state="ready"]', { timeout: 20_000 });
    type Probe = { trayProbe: { setToolTip: string; setContextMenu: Electron.Menu } };
    const tray = () =>
      app!.evaluate(() => {
        const { setToolTip, setContextMenu } = (globalThis as unknown as Probe).trayProbe;
        return { tooltip: setToolTip, items: setContextMenu.items.filter((i) => i.visible).map((i) => i.label) };
      });
    const click = (id: string) =>
      app!.evaluate(
        (_electron, which) => (globalThis as unknown as Probe).trayProbe.setContextMenu.getMenuItemById(which)!.click(),
        id,
      );
    assert.equal((await tray()).items[0], 'Session ready (simuser1)');
    assert.match((await tray()).tooltip, /^IBKR Session Keeper: Session ready\./);
    await sim.apply({ type: 'compete', kicked: true });
    await page.waitForSelector('header[data-state="competing"]');
    assert.match((await tray()).tooltip, /^IBKR Session Keeper: Another login holds the session\./);
    assert.ok((await tray()).items.includes('Take over from the other login'));
    await click('pause');
    await page.waitForSelector('header[data-state="paused"]');
    await click('pause');
    await page.waitForSelector('header[data-state="competing"]', { timeout: 20_000 });
    await page.click('[data-action="take-over"]');
    await page.waitForSelector('header[data-state="ready"]', { timeout: 20_000 });
    assert.equal(sim.counts()['/v1/api/iserver/auth/ssodh/init'], 1);
    await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/electron-window.png') });
    await page.close();
    const before = sim.counts()['/v1/api/tickle'] ?? 0;
    await new Promise((r) => setTimeout(r, 5_000));
    assert.ok((sim.counts()['/v1/api/tickle'] ?? 0) > before, 'the keeper goes on with every window closed');
  });

  test('Log in opens the login window, trusting the pinned certificate; it closes when ready', async (t) => {
    const sim = await startSim(t, { loggedOut: true });
    const dir = tempDir(t);
    SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 60 });
    const probe = path.join(tempDir(t), 'tray-probe.cjs');
    writeFileSync(probe, TRAY_PROBE);
    const home = tempDir(t);
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      IBKR_KEEPER_CONFIG_DIR: dir,
      IBKR_KEEPER_SHOW_DETAILS: '1',
    };
    loginApp = await electron.launch({ executablePath, args: ['--require', probe, ROOT], env });
    const details = await loginApp.firstWindow();
    await details.waitForSelector('header[data-state="login-required"]', { timeout: 20_000 });
    const opened = loginApp.waitForEvent('window');
    await details.click('[data-action="open-login-page"]');
    const login = await opened;
    // The simulator's certificate is expired and names no host: only the pin lets the page load.
    await login.waitForSelector('#password', { timeout: 20_000 });
    assert.equal(await login.title(), 'Client Portal Gateway (simulator): log in');
    assert.equal(login.url(), `${sim.url}/sso/Login?forwardTo=22&RL=1&ip2loc=US`);
    const facts = await loginApp.evaluate(({ BrowserWindow, session }, origin) => {
      const win = BrowserWindow.getAllWindows().find((w) => w.getTitle().includes(origin))!;
      const own = win.webContents.session;
      return { title: win.getTitle(), persistent: own.isPersistent(), shared: own === session.defaultSession };
    }, sim.url);
    assert.deepEqual(facts, { title: `Log in to the gateway (${sim.url})`, persistent: false, shared: false });
    // No Node in the page.
    assert.equal(await login.evaluate(() => typeof (globalThis as Record<string, unknown>)['require']), 'undefined');
    assert.equal(await login.evaluate(() => typeof (globalThis as Record<string, unknown>)['process']), 'undefined');
    // A page elsewhere is refused: the window stays on the gateway.
    await login.evaluate(() => void (location.href = 'https://example.com/'));
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(new URL(login.url()).origin, sim.url);
    const closed = login.waitForEvent('close', { timeout: 20_000 });
    await login.click('button[type="submit"]');
    await closed;
    await details.waitForSelector('header[data-state="ready"]', { timeout: 20_000 });
  });
});
