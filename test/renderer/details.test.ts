/**
 * The details window as a person sees and uses it, in Chromium, against a real keeper and the
 * simulator: every state shows with its colour, reason and advice; every action reaches the
 * simulator; bad settings are refused next to their field and not saved.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { raw, ROOT } from '../helpers.ts';
import { closeChromium, openDetailsWindow } from '../renderer-harness.ts';

// `npm run screenshots` writes them to docs/screenshots (committed, shown in the README);
// `npm test` to dist/screenshots, so a test run leaves the work tree as it was.
const SHOTS = path.resolve(ROOT, process.env['SCREENSHOTS_DIR'] ?? 'dist/screenshots');
mkdirSync(SHOTS, { recursive: true });
after(closeChromium);

async function shows(page: Page, state: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForSelector(`header[data-state="${state}"]`, { timeout: timeoutMs });
}

const text = (page: Page, id: string): Promise<string> => page.locator(`#${id}`).innerText();

describe('details window', () => {
  test('ready: state, reason, facts and the timeline, with no error in the page (CSP included)', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.page.waitForFunction(() => document.querySelector('#fact-user')?.textContent === 'simuser1');
    assert.equal(await text(w.page, 'title'), 'Session ready');
    assert.match(await text(w.page, 'reason'), /Authenticated and connected to IBKR as simuser1 \(paper\)/);
    assert.equal(await text(w.page, 'fact-account'), 'paper');
    assert.match(await text(w.page, 'fact-server'), /^JifZ34060 \(Build /);
    assert.match(await text(w.page, 'fact-gateway'), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'green');
    assert.equal(await w.page.locator('#history tr').count(), 9, "yesterday's eight changes and today's start");
    assert.equal(await w.page.locator('[data-action="take-over"]').isVisible(), false, 'no Take over when not competing');
    const drawn = await w.page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#timeline')!;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const count = { green: 0, orange: 0, amber: 0 };
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (r === 0x2e && g === 0xa0 && b === 0x43) count.green += 1;
        if (r === 0xe8 && g === 0x59 && b === 0x0c) count.orange += 1;
        if (r === 0xd2 && g === 0x99 && b === 0x22) count.amber += 1;
      }
      return count;
    });
    assert.ok(drawn.green > 2_000, `the ready spans are drawn in green (${drawn.green} px)`);
    assert.ok(drawn.orange > 200, `the competing hour is drawn in orange (${drawn.orange} px)`);
    assert.match(await text(w.page, 'trust'), /^SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2} \(trusted on first use/);
    await w.page.screenshot({ path: path.join(SHOTS, 'details-ready.png'), fullPage: true });
    assert.deepEqual(w.errors, []);
  });

  test('a drop and its recovery show in the header and the history', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'drop' });
    await shows(w.page, 'reauthenticating');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'amber');
    await shows(w.page, 'ready');
    const states = await w.page.locator('#history td.state').allInnerTexts();
    assert.deepEqual(states.slice(0, 4), ['ready', 'reauthenticating', 'not-authenticated', 'ready']);
  });

  test('competing: orange, says what to do, offers Take over, which reaches the simulator', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'compete', kicked: true });
    await shows(w.page, 'competing');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'orange');
    assert.match(await text(w.page, 'advice'), /take the session over explicitly/);
    await w.page.screenshot({ path: path.join(SHOTS, 'details-competing.png'), fullPage: true });
    await w.page.click('[data-action="take-over"]');
    await shows(w.page, 'ready');
    assert.equal(w.sim.counts()['/v1/api/iserver/auth/ssodh/init'], 1);
    assert.equal(await w.page.locator('[data-action="take-over"]').isVisible(), false);
  });

  test('login required: red; Open login page opens the gateway in the browser and the login is noticed', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'expire-sso' });
    await shows(w.page, 'login-required');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'red');
    assert.match(await text(w.page, 'reason'), /Nobody is logged in to the gateway/);
    await w.page.screenshot({ path: path.join(SHOTS, 'details-login-required.png'), fullPage: true });
    await w.page.click('[data-action="open-login-page"]');
    await w.page.waitForFunction(() => /Opened https:\/\/127\.0\.0\.1:\d+\/ in your browser/.test(document.querySelector('#message')?.textContent ?? ''));
    assert.deepEqual(w.opened, [`${w.sim.url}/`]);
    await w.sim.apply({ type: 'login' });
    await shows(w.page, 'ready', 10_000);
  });

  test('a changed certificate: red, both fingerprints, and nothing more is sent', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'rotate-certificate' });
    await shows(w.page, 'untrusted-certificate');
    assert.match(await text(w.page, 'reason'), new RegExp(`now presents certificate ${w.sim.fingerprint256}`));
    assert.match(await text(w.page, 'advice'), /trust its new certificate/);
    await w.page.screenshot({ path: path.join(SHOTS, 'details-untrusted-certificate.png'), fullPage: true });
    const width = await w.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 900, `long fingerprints wrap instead of widening the window (${width} px)`);
    const before = w.sim.requests().length;
    await w.page.waitForTimeout(3_000);
    assert.equal(w.sim.requests().length, before);
    assert.equal(await text(w.page, 'presented-fp'), `SHA-256 ${w.sim.fingerprint256}`);
    await w.page.click('#trust-new');
    await shows(w.page, 'ready');
    const pin = JSON.parse(readFileSync(path.join(w.dir, 'trust.json'), 'utf8')).pins[w.sim.url];
    assert.deepEqual([pin.fingerprint256, pin.source], [w.sim.fingerprint256, 'user']);
    assert.equal(await w.page.locator('#presented').isVisible(), false);
  });

  test('gateway down is grey and rate-limited purple, each with its reason and advice', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'access-denied' });
    await shows(w.page, 'gateway-down');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'grey');
    assert.match(await text(w.page, 'reason'), /Access Denied.*ips: allow:/);
    assert.match(await text(w.page, 'advice'), /Check that the Client Portal Gateway is running/);
    await w.sim.apply({ type: 'recover' });
    await shows(w.page, 'ready', 30_000);
    await raw(w.sim, 'POST', '/v1/api/tickle');
    await raw(w.sim, 'POST', '/v1/api/tickle'); // another program breaks the limit
    await shows(w.page, 'rate-limited');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'purple');
    assert.match(await text(w.page, 'reason'), /HTTP 429.*nothing for 10 min/);
    assert.match(await text(w.page, 'fact-next'), /^in (9|10) min/);
  });

  test('Check now, Reauthenticate, Pause and Resume reach the simulator; Log out asks first', async (t) => {
    const w = await openDetailsWindow(t, { intervalSeconds: 60 });
    await shows(w.page, 'ready');
    const tickles = w.sim.counts()['/v1/api/tickle'] ?? 0;
    await w.page.click('[data-action="check"]');
    await w.page.waitForFunction(() => document.querySelector('#message')?.textContent === 'Checked.');
    assert.equal(w.sim.counts()['/v1/api/tickle'], tickles + 1);
    await w.page.click('[data-action="reauthenticate"]');
    await w.page.waitForFunction(() => !['Checked.', '…'].includes(document.querySelector('#message')?.textContent ?? ''));
    assert.equal(await text(w.page, 'message'), 'Reauthentication started.');
    assert.equal(w.sim.counts()['/v1/api/iserver/reauthenticate'], 1);
    await w.page.click('[data-action="pause"]');
    await shows(w.page, 'paused');
    assert.equal(await w.page.locator('[data-action="resume"]').isVisible(), true);
    await w.page.click('[data-action="resume"]');
    await shows(w.page, 'ready');
    await w.page.click('#logout');
    assert.equal(w.sim.counts()['/v1/api/logout'], undefined, 'nothing sent before the confirmation');
    await w.page.click('#confirm-logout [data-action="logout"]');
    await shows(w.page, 'login-required');
    assert.equal(w.sim.counts()['/v1/api/logout'], 1);
  });

  test('settings: bad values are refused next to their field and not saved; good ones are saved and used', async (t) => {
    const w = await openDetailsWindow(t, { intervalSeconds: 60 });
    await shows(w.page, 'ready');
    const file = path.join(w.dir, 'settings.json');
    const before = readFileSync(file, 'utf8');
    await w.page.fill('#interval', '0');
    await w.page.fill('#gateway', 'http://localhost:5000');
    await w.page.click('#settings button[type="submit"]');
    await w.page.waitForFunction(() => document.querySelector('#settings-message')?.textContent?.startsWith('Not saved'));
    assert.match(await text(w.page, 'error-intervalSeconds'), /at least 1 second/);
    assert.match(await text(w.page, 'error-gateway'), /does not use https/);
    assert.equal(await w.page.locator('#interval').getAttribute('aria-invalid'), 'true');
    assert.equal(readFileSync(file, 'utf8'), before, 'nothing saved');
    await w.page.locator('#settings').screenshot({ path: path.join(SHOTS, 'details-settings-refused.png') });
    await w.page.fill('#interval', 'soon');
    await w.page.fill('#gateway', w.sim.url);
    await w.page.click('#settings button[type="submit"]');
    await w.page.waitForFunction(() => /number/.test(document.querySelector('#error-intervalSeconds')?.textContent ?? ''));
    assert.equal(await text(w.page, 'error-gateway'), '');
    await w.page.fill('#interval', '30');
    await w.page.uncheck('#notifications input[data-kind="recovery"]');
    await w.page.check('#launch');
    await w.page.click('#settings button[type="submit"]');
    await w.page.waitForFunction(() => document.querySelector('#settings-message')?.textContent === 'Saved.');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.intervalSeconds, 30);
    assert.equal(saved.notifications.recovery, false);
    assert.equal(saved.launchAtLogin, true);
    assert.deepEqual(w.launchAtLogin.at(-1), true);
    assert.equal(w.core.keeper.intervalMs, 30_000);
    await w.page.screenshot({ path: path.join(SHOTS, 'details-settings.png'), fullPage: true });
  });

  test('Forget this certificate removes the pin', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.page.click('#forget');
    await w.page.waitForFunction(() => /Forgot the trusted certificate/.test(document.querySelector('#message')?.textContent ?? ''));
    assert.deepEqual(JSON.parse(readFileSync(path.join(w.dir, 'trust.json'), 'utf8')).pins, {});
    assert.match(await text(w.page, 'trust'), /None yet/);
  });
});
