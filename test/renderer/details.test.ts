/**
 * The details window as a person sees and uses it, in Chromium at the popover's size (380 x 560),
 * light and dark, against a real keeper and the simulator: each state with its colour, icon,
 * reason and advice; the views as tabs; only the countdowns moving; the actions the tray allows;
 * confirmations; settings refused next to their field; every failure of the main process shown.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { controlsFor } from '../../main/contract.ts';
import { WINDOW_SIZE } from '../../main/desktop/windows.ts';
import { PALETTE, rgb } from '../../main/session/palette.ts';
import { IBKR_STOCK_CERTIFICATE } from '../../main/session/tls.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { raw, ROOT, pattern } from '../helpers.ts';
import { copyGateway, freePort } from '../real-gateway.ts';
import { closeChromium, openDetailsWindow, type WindowRig } from '../renderer-harness.ts';

// `npm run screenshots` writes them to docs/screenshots (committed, shown in the README);
// `npm test` to dist/screenshots, so a test run leaves the work tree as it was.
const SHOTS = path.resolve(ROOT, process.env['SCREENSHOTS_DIR'] ?? 'dist/screenshots');
mkdirSync(SHOTS, { recursive: true });
after(closeChromium);

async function shows(page: Page, state: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForSelector(`header[data-state="${state}"]`, { timeout: timeoutMs });
}
const text = (page: Page, id: string): Promise<string> => page.locator(`#${id}`).innerText();
const css = (hex: string): string => `rgb(${rgb(hex).join(', ')})`;
/** A screenshot as a person sees the window: the pointer moved off it, so nothing shows hovered. */
async function shot(w: WindowRig, name: string): Promise<void> {
  await w.page.mouse.move(WINDOW_SIZE.width + 10, WINDOW_SIZE.height + 10);
  await w.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}
async function message(page: Page, pattern: RegExp): Promise<string> {
  await page.waitForFunction(
    (source) => new RegExp(source).test(document.querySelector('#message')?.textContent ?? ''),
    pattern.source,
  );
  return text(page, 'message');
}
/** The buttons of the Status view as [label, enabled], visible ones only. */
const buttons = (page: Page): Promise<Array<[string, boolean]>> =>
  page.$$eval('#actions button', (list) =>
    list
      .filter((b) => !(b as HTMLElement).hidden)
      .map((b) => [b.textContent!, !(b as HTMLButtonElement).disabled] as [string, boolean]),
  );

describe('details window', () => {
  for (const scheme of ['light', 'dark'] as const) {
    test(`${scheme}: every view at 380 x 560, the palette's colours, no page error (CSP included)`, async (t) => {
      const w = await openDetailsWindow(t, { colorScheme: scheme });
      await shows(w.page, 'ready');
      await w.page.waitForFunction(() => document.querySelector('#fact-user')?.textContent === 'simuser1 (paper)');
      assert.equal(await text(w.page, 'title'), 'Session ready');
      assert.match(await text(w.page, 'reason'), /Authenticated and connected to IBKR as simuser1 \(paper\)/);
      assert.match(await text(w.page, 'fact-server'), /^JifZ34060, build /);
      assert.match(await text(w.page, 'fact-gateway'), /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await w.page.locator('#state-icon').getAttribute('src'), 'icons/ready-32.png');
      // The icon loads (waited for: a loaded machine may take a moment).
      await w.page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#state-icon');
        return img?.complete && img.naturalWidth > 0;
      });
      // The state's colour is the palette's, and so is each stretch of the timeline.
      assert.equal(
        await w.page.locator('header').evaluate((h) => getComputedStyle(h).borderTopColor),
        css(PALETTE.green),
      );
      const segments = await w.page.$$eval('#timeline .segment', (list) =>
        list.map((s) => [(s as HTMLElement).dataset['state'], getComputedStyle(s).backgroundColor]),
      );
      assert.deepEqual(
        segments.map(([state]) => state),
        ['ready', 'not-authenticated', 'ready', 'gateway-down', 'ready', 'competing', 'ready', 'paused', 'ready'],
      );
      assert.equal(segments.find(([state]) => state === 'competing')![1], css(PALETTE.orange));
      assert.match(
        await text(w.page, 'timeline-summary'),
        /^Session ready \d+ h \d+ min, Another login holds the session 1 h 0 min/,
      );
      // Light or dark, as the system is.
      const background = await w.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.equal(background, scheme === 'light' ? 'rgb(246, 248, 250)' : 'rgb(22, 27, 34)');
      // The window itself never scrolls; the Status view fits whole.
      const fit = await w.page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.scrollHeight,
        document.querySelector('main')!.scrollHeight - document.querySelector('main')!.clientHeight,
      ]);
      assert.deepEqual(fit, [WINDOW_SIZE.width, WINDOW_SIZE.height, 0], 'no scrolling in the Status view');
      await shot(w, `window-status-${scheme}`);
      await w.page.click('#tab-history');
      assert.equal(await w.page.locator('#history li').count(), 9, "yesterday's eight changes and today's start");
      assert.equal(await w.page.locator('#history li img').first().getAttribute('src'), 'icons/ready.png');
      await shot(w, `window-history-${scheme}`);
      await w.page.click('#tab-settings');
      assert.match(await w.page.inputValue('#gateway'), /^https:\/\/127\.0\.0\.1:\d+$/);
      await shot(w, `window-settings-${scheme}`);
      assert.deepEqual(w.errors, []);
    });
  }

  test('the views are tabs: roles, one panel at a time, arrow keys, Home and End', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    const selected = (): Promise<string[]> =>
      w.page.$$eval('[role="tab"][aria-selected="true"]', (l) => l.map((e) => e.id));
    const visible = (): Promise<string[]> =>
      w.page.$$eval('[role="tabpanel"]', (l) => l.filter((e) => !(e as HTMLElement).hidden).map((e) => e.id));
    assert.equal(await w.page.locator('[role="tablist"] [role="tab"]').count(), 3);
    assert.deepEqual([await selected(), await visible()], [['tab-status'], ['view-status']]);
    assert.equal(await w.page.locator('#view-history').getAttribute('aria-labelledby'), 'tab-history');
    await w.page.focus('#tab-status');
    await w.page.keyboard.press('ArrowRight');
    assert.deepEqual([await selected(), await visible()], [['tab-history'], ['view-history']]);
    assert.equal(await w.page.evaluate(() => document.activeElement?.id), 'tab-history');
    await w.page.keyboard.press('End');
    assert.deepEqual(await selected(), ['tab-settings']);
    await w.page.keyboard.press('ArrowRight');
    assert.deepEqual(await selected(), ['tab-status'], 'wraps around');
    assert.deepEqual(
      await w.page.$$eval('[role="tab"]', (l) => l.map((e) => (e as HTMLElement).tabIndex)),
      [0, -1, -1],
      'one tab stop',
    );
  });

  test('only the countdowns change every second; focus and a selection stay put', async (t) => {
    const w = await openDetailsWindow(t, { intervalSeconds: 60 });
    await shows(w.page, 'ready');
    await w.page.waitForTimeout(1_000);
    await w.page.focus('[data-action="reauthenticate"]');
    await w.page.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector('#reason')!);
      getSelection()!.addRange(range);
      const touched = new Set<string>();
      new MutationObserver((records) => {
        for (const r of records)
          touched.add((r.target instanceof Element ? r.target : r.target.parentElement)!.closest('[id]')!.id);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      (window as unknown as { touched: Set<string> }).touched = touched;
    });
    const minute = Math.floor(Date.now() / 60_000);
    // The main process pushes the state after every step, changed or not: nothing is redrawn for it.
    for (let i = 0; i < 3; i += 1) {
      w.push();
      await w.page.waitForTimeout(1_000);
    }
    const touched = await w.page.evaluate(() => [...(window as unknown as { touched: Set<string> }).touched]);
    // The countdowns; the timeline too when a minute began meanwhile (it moves once a minute).
    const moving = new Set([
      'fact-tickle',
      'fact-next',
      'fact-sso',
      ...(Math.floor(Date.now() / 60_000) !== minute ? ['timeline', 'timeline-summary'] : []),
    ]);
    assert.deepEqual(
      touched.filter((id) => !moving.has(id)),
      [],
      'nothing else was redrawn',
    );
    assert.ok(touched.includes('fact-tickle'), 'the last tickle counts up');
    assert.equal(await w.page.evaluate(() => document.activeElement?.getAttribute('data-action')), 'reauthenticate');
    assert.match(await w.page.evaluate(() => getSelection()!.toString()), /^Authenticated and connected/);
  });

  test(
    'a drop and its recovery: the state is announced ' + '(aria-live) once per change, and kept in the history',
    async (t) => {
      const w = await openDetailsWindow(t);
      await shows(w.page, 'ready');
      assert.equal(await w.page.locator('#state-live').getAttribute('aria-live'), 'polite');
      await w.page.evaluate(() => {
        const said: string[] = [];
        new MutationObserver(() =>
          said.push(document.querySelector('#state-live')!.textContent!.replace(/\s+/g, ' ').trim()),
        ).observe(document.querySelector('#state-live')!, { subtree: true, childList: true, characterData: true });
        (window as unknown as { said: string[] }).said = said;
      });
      await w.sim.apply({ type: 'drop' });
      await shows(w.page, 'reauthenticating');
      assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'amber');
      await shows(w.page, 'ready');
      await w.page.waitForTimeout(2_500); // a few more steps of the keeper, each pushing the state
      const said = await w.page.evaluate(() => (window as unknown as { said: string[] }).said);
      assert.ok(
        said.some((s) => s.startsWith('Reauthenticating')) && said.at(-1)!.startsWith('Session ready'),
        said.join(' | '),
      );
      for (let i = 1; i < said.length; i += 1) assert.notEqual(said[i], said[i - 1], 'nothing said twice');
      await w.page.click('#tab-history');
      const states = await w.page.$$eval('#history li', (l) => l.map((e) => (e as HTMLElement).dataset['state']));
      assert.deepEqual(states.slice(0, 3), ['ready', 'reauthenticating', 'not-authenticated']);
    },
  );

  test('competing: orange, says what to do, Take over first; it reaches the simulator', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'compete', kicked: true });
    await shows(w.page, 'competing');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'orange');
    assert.match(await text(w.page, 'advice'), /take the session over explicitly/);
    assert.equal(await w.page.locator('#actions button.primary').innerText(), 'Take over');
    await shot(w, 'window-competing');
    await w.page.click('[data-action="take-over"]');
    await shows(w.page, 'ready');
    assert.equal(w.sim.counts()['/v1/api/iserver/auth/ssodh/init'], 1);
    assert.equal(await w.page.locator('[data-action="take-over"]').isVisible(), false);
  });

  test('login required: Log in first (without Electron: the browser); the login is noticed', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'expire-sso' });
    await shows(w.page, 'login-required');
    assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'red');
    assert.match(await text(w.page, 'reason'), /Nobody is logged in to the gateway/);
    assert.equal(await w.page.locator('#actions button.primary').innerText(), 'Log in');
    await shot(w, 'window-login-required');
    await w.page.click('[data-action="open-login-page"]');
    await message(w.page, /Opened https:\/\/127\.0\.0\.1:\d+\/ in your browser/);
    assert.deepEqual(w.opened, [`${w.sim.url}/`]);
    await w.sim.apply({ type: 'login' });
    await shows(w.page, 'ready', 10_000);
  });

  test('a changed certificate: both fingerprints, what the tray disables is disabled, nothing is sent', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.sim.apply({ type: 'rotate-certificate' });
    await shows(w.page, 'untrusted-certificate');
    assert.match(await text(w.page, 'reason'), new RegExp(`now presents certificate ${w.sim.fingerprint256}`));
    assert.match(await text(w.page, 'advice'), /Trust a new certificate only if you know why it changed/);
    const can = controlsFor('untrusted-certificate');
    assert.deepEqual(await buttons(w.page), [
      ['Reauthenticate', can.reauthenticate.enabled],
      ['Log in', true],
      ['Check now', true],
      ['Pause', true],
      ['Log out…', can.logout.enabled],
    ]);
    assert.match(
      (await w.page.locator('[data-action="reauthenticate"]').getAttribute('title')) ?? '',
      /certificate changed/,
    );
    // The reason names both fingerprints: cut at three lines, so the actions stay in view.
    assert.equal(await w.page.locator('#more').isVisible(), true);
    assert.ok((await w.page.locator('header').boundingBox())!.height < 130, 'a short header');
    assert.equal(
      await text(w.page, 'pinned-fp'),
      `SHA-256 ${JSON.parse(readFileSync(path.join(w.dir, 'trust.json'), 'utf8')).pins[w.sim.url].fingerprint256}`,
    );
    await shot(w, 'window-untrusted-certificate');
    await w.page.click('#more');
    assert.equal(await w.page.locator('#more').getAttribute('aria-expanded'), 'true');
    assert.equal(
      await w.page.locator('#reason').evaluate((r) => r.scrollHeight <= r.clientHeight + 1),
      true,
      'all of it shows',
    );
    const width = await w.page.evaluate(() => document.documentElement.scrollWidth);
    assert.equal(width, WINDOW_SIZE.width, 'long fingerprints wrap instead of widening the window');
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

  test("IBKR's stock certificate: the Settings view says what it means and the fix", async (t) => {
    const w = await openDetailsWindow(t, { pin: IBKR_STOCK_CERTIFICATE });
    await shows(w.page, 'untrusted-certificate');
    await w.page.click('#tab-settings');
    assert.match(await text(w.page, 'trust'), /^SHA-256 13:DA:F8:9A/);
    assert.match(await text(w.page, 'trust-notice'), /ships with every copy of the gateway.*certificate of its own/);
    await w.page.locator('#forget').scrollIntoViewIfNeeded();
    await shot(w, 'window-stock-certificate');
  });

  test(
    'the window gives the gateway its own certificate: first the folder, then one click; conf.yaml changed, ' +
      'the new one pinned',
    async (t) => {
      const w = await openDetailsWindow(t);
      await shows(w.page, 'ready');
      await w.page.click('#tab-settings');
      await w.page.click('#own-certificate');
      assert.match(
        await message(w.page, /gateway's folder in Settings first/),
        /Set the gateway's folder in Settings first/,
      );
      await w.page.fill('#gatewayDir', '/nonexistent/clientportal.gw');
      await w.page.click('#settings button[type="submit"]');
      await w.page.waitForFunction(() => (document.querySelector('#error-gatewayDir')?.textContent ?? '') !== '');
      assert.equal(await w.page.getAttribute('#gatewayDir', 'aria-invalid'), 'true');
      const port = await freePort();
      const gateway = copyGateway(t, port);
      await w.page.fill('#gatewayDir', gateway);
      await w.page.click('#settings button[type="submit"]');
      await w.page.waitForFunction(() => document.querySelector('#settings-message')?.textContent === 'Saved.');
      await w.page.click('#own-certificate');
      const said = await message(w.page, /certificate of its own/);
      const fingerprint = /SHA-256 ([0-9A-F:]{95})/.exec(said)![1]!;
      assert.match(readFileSync(path.join(gateway, 'root/conf.yaml'), 'utf8'), /^sslCert: "ibkr-keeper-.*\.jks"$/m);
      assert.equal(new TrustStore(w.dir).get(`https://localhost:${port}`)?.fingerprint256, fingerprint);
      assert.equal(new TrustStore(w.dir).get(`https://127.0.0.1:${port}`)?.fingerprint256, fingerprint);
      await w.page.locator('#own-certificate').scrollIntoViewIfNeeded();
      await shot(w, 'window-own-certificate');
    },
  );

  test(
    'gateway down is grey, rate-limited purple with ' + 'Reauthenticate and Log out disabled, as in the tray',
    async (t) => {
      const w = await openDetailsWindow(t);
      await shows(w.page, 'ready');
      await w.sim.apply({ type: 'access-denied' });
      await shows(w.page, 'gateway-down');
      assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'grey');
      assert.match(await text(w.page, 'reason'), /Access Denied.*ips: allow:/);
      assert.match(
        await text(w.page, 'advice'),
        /Check what the reason names: the gateway at this address, its allow list, its link to IBKR/,
      );
      await w.sim.apply({ type: 'recover' });
      await shows(w.page, 'ready', 30_000);
      await raw(w.sim, 'POST', '/v1/api/tickle');
      await raw(w.sim, 'POST', '/v1/api/tickle'); // another program breaks the limit
      await shows(w.page, 'rate-limited');
      assert.equal(await w.page.locator('header').getAttribute('data-colour'), 'purple');
      assert.match(await text(w.page, 'reason'), /HTTP 429.*nothing for 10 min/);
      assert.match(await text(w.page, 'fact-next'), /^in (9|10) min/);
      const enabled = Object.fromEntries(await buttons(w.page));
      assert.deepEqual([enabled['Reauthenticate'], enabled['Log out…'], enabled['Log in']], [false, false, true]);
    },
  );

  test(
    'Check now, Reauthenticate, Pause and Resume reach ' + 'the simulator; Log out asks first, Escape cancels',
    async (t) => {
      const w = await openDetailsWindow(t, { intervalSeconds: 60 });
      await shows(w.page, 'ready');
      const tickles = w.sim.counts()['/v1/api/tickle'] ?? 0;
      await w.page.click('[data-action="check"]');
      await message(w.page, /^Checked\.$/);
      assert.equal(w.sim.counts()['/v1/api/tickle'], tickles + 1);
      await w.page.click('[data-action="reauthenticate"]');
      assert.equal(await message(w.page, /^Reauthentication started\.$/), 'Reauthentication started.');
      assert.equal(w.sim.counts()['/v1/api/iserver/reauthenticate'], 1);
      await shows(w.page, 'ready');
      await w.page.click('[data-action="pause"]');
      await shows(w.page, 'paused');
      assert.deepEqual(await buttons(w.page), [
        ['Reauthenticate', false],
        ['Log in', true],
        ['Check now', false],
        ['Resume', true],
        ['Log out…', false],
      ]);
      assert.equal(await w.page.locator('#actions button.primary').innerText(), 'Resume');
      await w.page.click('[data-action="resume"]');
      await shows(w.page, 'ready');
      await w.page.click('#logout');
      assert.equal(
        await w.page.evaluate(() => document.activeElement?.textContent),
        'Cancel',
        'the safe choice has the focus',
      );
      await w.page.keyboard.press('Escape');
      assert.equal(await w.page.locator('#confirm-logout').isVisible(), false);
      assert.equal(await w.page.evaluate(() => document.activeElement?.id), 'logout', 'the focus goes back');
      await w.page.click('#logout');
      assert.equal(w.sim.counts()['/v1/api/logout'], undefined, 'nothing sent before the confirmation');
      await w.page.click('#confirm-logout [data-action="logout"]');
      await shows(w.page, 'login-required');
      assert.equal(w.sim.counts()['/v1/api/logout'], 1);
    },
  );

  test(
    'settings: bad values are refused next to their field (aria-describedby), not saved; good ones are saved ' +
      'and used',
    async (t) => {
      const w = await openDetailsWindow(t, { intervalSeconds: 60 });
      await shows(w.page, 'ready');
      await w.page.click('#tab-settings');
      const file = path.join(w.dir, 'settings.json');
      const before = readFileSync(file, 'utf8');
      await w.page.fill('#interval', '0');
      await w.page.fill('#gateway', 'http://localhost:5000');
      await w.page.click('#settings button[type="submit"]');
      await w.page.waitForFunction(() =>
        document.querySelector('#settings-message')?.textContent?.startsWith('Not saved'),
      );
      assert.match(await text(w.page, 'error-intervalSeconds'), /at least 1 second/);
      assert.match(await text(w.page, 'error-gateway'), /does not use https/);
      assert.equal(await w.page.locator('#interval').getAttribute('aria-invalid'), 'true');
      assert.match(
        (await w.page.locator('#interval').getAttribute('aria-describedby')) ?? '',
        /\berror-intervalSeconds\b/,
      );
      assert.equal(await w.page.locator('#gateway').getAttribute('aria-describedby'), 'error-gateway');
      assert.equal(
        await w.page.evaluate(() => document.activeElement?.id),
        'gateway',
        'the focus goes to the first refused field',
      );
      assert.equal(readFileSync(file, 'utf8'), before, 'nothing saved');
      await shot(w, 'window-settings-refused');
      await w.page.fill('#interval', 'soon');
      await w.page.fill('#gateway', w.sim.url);
      await w.page.click('#settings button[type="submit"]');
      await w.page.waitForFunction(() =>
        /number/.test(document.querySelector('#error-intervalSeconds')?.textContent ?? ''),
      );
      assert.equal(await text(w.page, 'error-gateway'), '');
      assert.equal(await w.page.locator('#gateway').getAttribute('aria-invalid'), 'false');
      await w.page.fill('#interval', '30');
      await w.page.uncheck('#notifications input[data-kind="recovery"]');
      await w.page.click('#settings button[type="submit"]');
      await w.page.waitForFunction(() => document.querySelector('#settings-message')?.textContent === 'Saved.');
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(saved.intervalSeconds, 30);
      assert.equal(saved.notifications.recovery, false);
      assert.equal(w.core.keeper.intervalMs, 30_000);
    },
  );

  test('saving settings leaves an undecided launch at login undecided; a decision is saved', async (t) => {
    const w = await openDetailsWindow(t, { intervalSeconds: 60, loggedOut: true });
    await shows(w.page, 'login-required');
    await w.page.click('#tab-settings');
    assert.equal(await w.page.locator('#launch').evaluate((i: HTMLInputElement) => i.indeterminate), true);
    assert.match(await text(w.page, 'hint-launch'), /Not decided yet/);
    const file = path.join(w.dir, 'settings.json');
    await w.page.fill('#interval', '45');
    await w.page.click('#settings button[type="submit"]');
    await w.page.waitForFunction(() => document.querySelector('#settings-message')?.textContent === 'Saved.');
    assert.deepEqual(
      [JSON.parse(readFileSync(file, 'utf8')).intervalSeconds, JSON.parse(readFileSync(file, 'utf8')).launchAtLogin],
      [45, null],
    );
    assert.deepEqual(w.launchAtLogin, [], 'the system was not touched');
    await w.page.check('#launch');
    await w.page.click('#settings button[type="submit"]');
    await w.page.waitForFunction(
      () =>
        document.querySelector('#settings-message')?.textContent === 'Saved.' &&
        !document.querySelector<HTMLInputElement>('#launch')!.indeterminate,
    );
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).launchAtLogin, true);
    assert.deepEqual(w.launchAtLogin, [true]);
  });

  test('Forget this certificate asks first; Cancel keeps it, Forget removes the pin', async (t) => {
    const w = await openDetailsWindow(t);
    await shows(w.page, 'ready');
    await w.page.click('#tab-settings');
    await w.page.click('#forget');
    assert.equal(await w.page.locator('#confirm-forget').isVisible(), true);
    await w.page.click('#confirm-forget .cancel');
    assert.equal(Object.keys(JSON.parse(readFileSync(path.join(w.dir, 'trust.json'), 'utf8')).pins).length, 1, 'kept');
    await w.page.click('#forget');
    await w.page.click('#forget-yes');
    await message(w.page, /Forgot the trusted certificate/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(w.dir, 'trust.json'), 'utf8')).pins, {});
    assert.match(await text(w.page, 'trust'), /None yet/);
  });

  test('every failure of the main process is shown, none leaves the window waiting', async (t) => {
    const w = await openDetailsWindow(t, { failing: { 'state:get': 'the keeper is not answering' }, stopped: true });
    assert.match(
      await message(w.page, /Could not load/),
      /^Could not load the keeper's state: the keeper is not answering\./,
    );
    assert.equal(await text(w.page, 'title'), 'No answer from the keeper');
    assert.equal(await w.page.locator('#retry').isVisible(), true);
    w.fail('state:get', undefined);
    await w.page.click('#retry');
    await w.page.waitForFunction(() => document.querySelector('#title')?.textContent === 'Starting');
    w.core.start();
    await shows(w.page, 'ready');
    assert.equal(await w.page.locator('#retry').isVisible(), false);
    w.fail('keeper:act', 'Refused "keeper:act" from a page that is not the app\'s own.');
    await w.page.click('[data-action="check"]');
    assert.match(await message(w.page, /^Could not check now/), /Refused "keeper:act"/);
    assert.equal(await w.page.locator('#message').evaluate((m) => m.classList.contains('bad')), true);
    w.fail('keeper:act', undefined);
    await w.page.click('[data-action="check"]');
    await message(w.page, /^Checked\.$/);
    w.fail('settings:save', 'disk full');
    await w.page.click('#tab-settings');
    await w.page.click('#settings button[type="submit"]');
    assert.match(await message(w.page, /^Could not save the settings/), /disk full/);
    assert.equal(await text(w.page, 'settings-message'), 'Not saved.');
    w.fail('trust:forget', 'no permission');
    await w.page.click('#forget');
    await w.page.click('#forget-yes');
    assert.match(await message(w.page, /^Could not forget the certificate/), /no permission/);
  });

  test('a notification that could not be shown is shown in the window, with what it was', async (t) => {
    const w = await openDetailsWindow(t, { failNotifications: 'no notification service' });
    await shows(w.page, 'ready');
    assert.equal(await w.page.locator('#notification-problem').isVisible(), false);
    await w.sim.apply({ type: 'compete', kicked: true });
    await shows(w.page, 'competing');
    await w.page.waitForSelector('#notification-problem:not([hidden])');
    assert.match(
      await text(w.page, 'notification-problem'),
      pattern(
        /^Could not show the notification "Another login holds /,
        /your IBKR session" \(no notification service\)\. At \d{4}-/,
      ),
    );
    await shot(w, 'window-notification-failed');
  });

  test(
    "the desktop's facts: launch at login as the system " + 'has it, no tray and how to get one, the log file',
    async (t) => {
      const desktop = {
        launchAtLogin: {
          state: 'requires-approval',
          text: 'Waiting for your approval: allow IBKR Session Keeper in System Settings, General, Login Items.',
        },
        trayHint:
          'Your desktop shows no tray icons, so this window is how you reach the app: start it again to open it. ' +
          'On GNOME, install the "AppIndicator and KStatusNotifierItem Support" extension.',
        logFile: '/home/someone/.config/IBKR Session Keeper/logs/main.log',
      } as const;
      const w = await openDetailsWindow(t, { desktop });
      await shows(w.page, 'ready');
      assert.equal(await text(w.page, 'tray-hint'), desktop.trayHint);
      await w.page.click('#tab-settings');
      assert.equal(await text(w.page, 'launch-system'), `System: ${desktop.launchAtLogin.text}`);
      assert.match((await w.page.locator('#launch').getAttribute('aria-describedby'))!, /launch-system/);
      assert.equal(await text(w.page, 'log-file'), `Log file: ${desktop.logFile}`);
      const unpackaged = await openDetailsWindow(t);
      await shows(unpackaged.page, 'ready');
      assert.equal(await unpackaged.page.locator('#tray-hint').isVisible(), false);
      await unpackaged.page.click('#tab-settings');
      assert.equal(
        await text(unpackaged.page, 'launch-system'),
        'System: Launch at login works only in the installed app.',
      );
    },
  );
});
