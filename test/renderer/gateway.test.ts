/**
 * The window's gateway folder experience in Chromium at 380 x 560, against a real desktop core
 * (the folder dialog answered by the test, as Electron's would): Choose… beside the gateway
 * folder, its check tied to the field; the first-run step shown and gone with its conditions;
 * the gateway's process with Show gateway log, and IBKR's real gateway run by the app.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { WINDOW_SIZE } from '../../main/desktop/windows.ts';
import { consoleLogFile } from '../../main/gateway/console-log.ts';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { ROOT, tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';
import { closeChromium, openDetailsWindow, type WindowRig } from '../renderer-harness.ts';

// As test/renderer/details.test.ts: `npm run screenshots` writes docs/screenshots, `npm test` dist/screenshots.
const SHOTS = path.resolve(ROOT, process.env['SCREENSHOTS_DIR'] ?? 'dist/screenshots');
mkdirSync(SHOTS, { recursive: true });
after(closeChromium);

const EXPECTED = /choose the folder you unzipped clientportal\.gw\.zip into, the one with bin\/ and root\//;
const text = (page: Page, id: string): Promise<string> => page.locator(`#${id}`).innerText();
const visible = (page: Page, id: string): Promise<boolean> => page.locator(`#${id}`).isVisible();
async function shows(page: Page, state: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForSelector(`header[data-state="${state}"]`, { timeout: timeoutMs });
}
async function until(page: Page, what: string, id: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  try {
    await page.waitForFunction(
      ([i, source]) => new RegExp(source!).test(document.getElementById(i!)?.textContent ?? ''),
      [id, pattern.source],
      { timeout: timeoutMs },
    );
  } catch {
    throw new Error(`${what}: #${id} never matched ${pattern} (it says "${await text(page, id)}")`);
  }
  return text(page, id);
}
/** A screenshot as a person sees the window: the pointer off it, nothing hovered. */
async function shot(w: WindowRig, name: string): Promise<void> {
  await w.page.mouse.move(WINDOW_SIZE.width + 10, WINDOW_SIZE.height + 10);
  await w.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}
/** Nothing wider than the window (a long path or URL wraps). */
async function fitsWidth(page: Page): Promise<void> {
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), WINDOW_SIZE.width);
}
const settingsFile = (w: WindowRig): string => path.join(w.dir, 'settings.json');

describe('the gateway folder in the window', () => {
  test('Settings: Choose… checks the folder at once, a wrong one refused at its field; saved on Save', async (t) => {
    const w = await openDetailsWindow(t, { intervalSeconds: 60 });
    await shows(w.page, 'ready');
    await w.page.click('#tab-settings');
    const before = readFileSync(settingsFile(w), 'utf8');
    // Cancelled: nothing changes.
    await w.page.click('#choose-gatewayDir');
    for (let i = 0; i < 100 && w.asked.length === 0; i += 1) await w.page.waitForTimeout(50);
    assert.equal(w.asked.length, 1, 'the dialog was asked for');
    assert.equal(await w.page.inputValue('#gatewayDir'), '');
    // A folder without root/conf.yaml: the field says what was expected, tied to it, and has the focus.
    const wrong = tempDir(t);
    mkdirSync(path.join(wrong, 'bin'));
    writeFileSync(path.join(wrong, 'bin/run.sh'), '#!/bin/sh\n');
    w.folders.push(wrong);
    await w.page.click('#choose-gatewayDir');
    const refused = await until(w.page, 'the refusal', 'error-gatewayDir', /root\/conf\.yaml/);
    assert.match(refused, /^This folder has no root\/conf\.yaml, no dist\/\*\.jar: /);
    assert.match(refused, EXPECTED);
    assert.equal(await w.page.inputValue('#gatewayDir'), wrong);
    assert.equal(await w.page.getAttribute('#gatewayDir', 'aria-invalid'), 'true');
    assert.match((await w.page.getAttribute('#gatewayDir', 'aria-describedby')) ?? '', /\berror-gatewayDir\b/);
    assert.equal(await w.page.evaluate(() => document.activeElement?.id), 'gatewayDir');
    await fitsWidth(w.page);
    await w.page.locator('#gatewayDir').scrollIntoViewIfNeeded();
    await shot(w, 'window-gateway-folder-refused');
    // IBKR's gateway: accepted, said what it is, the dialog opened where the field points; still not saved.
    const port = await freePort();
    const gateway = copyGateway(t, port);
    w.folders.push(gateway);
    await w.page.click('#choose-gatewayDir');
    await until(w.page, 'the check', 'note-gatewayDir', new RegExp(`listen on port ${port}\\..*Save the settings`));
    assert.deepEqual(w.asked, [undefined, undefined, wrong], 'the dialog opens where the field points');
    assert.equal(await text(w.page, 'error-gatewayDir'), '');
    assert.equal(await w.page.getAttribute('#gatewayDir', 'aria-invalid'), 'false');
    assert.equal(await w.page.inputValue('#gatewayDir'), gateway);
    assert.equal(readFileSync(settingsFile(w), 'utf8'), before, 'nothing saved by choosing');
    // The main process's next push does not overwrite the chosen folder before it is saved.
    w.push();
    await w.page.waitForTimeout(300);
    assert.equal(await w.page.inputValue('#gatewayDir'), gateway);
    await w.page.click('#settings button[type="submit"]');
    await until(w.page, 'saved', 'settings-message', /^Saved\.$/);
    assert.equal(JSON.parse(readFileSync(settingsFile(w), 'utf8')).gatewayDir, gateway);
    assert.equal(await text(w.page, 'note-gatewayDir'), '');
    // The dialog failing (as a broken main process) is said, as every failure is.
    w.fail('gateway:choose-folder', 'the dialog could not open');
    await w.page.click('#choose-gatewayDir');
    await until(w.page, 'the failure', 'message', /^Could not choose the gateway's folder: the dialog could not open/);
  });

  test('first run: no folder, nothing on the port: the step; a wrong folder refused, a right one saved', async (t) => {
    for (const scheme of ['light', 'dark'] as const) {
      const port = await freePort();
      const w = await openDetailsWindow(t, {
        colorScheme: scheme,
        settings: { gateway: `https://localhost:${port}` },
      });
      await shows(w.page, 'gateway-down');
      await w.page.waitForSelector('#setup:not([hidden])');
      assert.equal(await text(w.page, 'setup-address'), `https://localhost:${port}`);
      assert.equal(await visible(w.page, 'advice'), false, 'the step instead of the general advice');
      assert.match(await text(w.page, 'setup'), /download2\.interactivebrokers\.com\/portal\/clientportal\.gw\.zip/);
      assert.match(await text(w.page, 'setup'), /Java 8u192 or later/);
      assert.equal(await w.page.isChecked('#setup-run'), true, '"Run the gateway with the app" offered on');
      await fitsWidth(w.page);
      // The step and its two buttons are in view without scrolling.
      const bottom = await w.page.locator('#setup-dismiss').evaluate((b) => b.getBoundingClientRect().bottom);
      assert.ok(bottom < WINDOW_SIZE.height, `the step's buttons are in view (${bottom})`);
      await shot(w, `window-first-run-${scheme}`);
      if (scheme === 'dark') break;

      const wrong = tempDir(t);
      w.folders.push(wrong);
      await w.page.click('#setup-choose');
      assert.match(await until(w.page, 'the refusal', 'setup-error', /no root\/conf\.yaml/), EXPECTED);
      assert.equal(await w.page.getAttribute('#setup-choose', 'aria-describedby'), 'setup-error');
      assert.equal(await visible(w.page, 'setup'), true);
      assert.equal(JSON.parse(readFileSync(settingsFile(w), 'utf8')).gatewayDir, null, 'nothing saved');
      // The real gateway's folder: saved with "Run the gateway with the app" as ticked (off here: no Java run).
      const gateway = copyGateway(t, await freePort());
      await w.page.uncheck('#setup-run');
      w.folders.push(gateway);
      await w.page.click('#setup-choose');
      await until(w.page, 'saved', 'message', /^Saved: the gateway's folder is /);
      await w.page.waitForSelector('#setup', { state: 'hidden' });
      const saved = JSON.parse(readFileSync(settingsFile(w), 'utf8'));
      assert.deepEqual([saved.gatewayDir, saved.runGateway], [gateway, false]);
      // Settings shows it, and the Status view the gateway's process part with its log.
      await w.page.click('#tab-settings');
      assert.equal(await w.page.inputValue('#gatewayDir'), gateway);
      await w.page.click('#tab-status');
      assert.equal(await visible(w.page, 'process'), true);
      assert.equal(await visible(w.page, 'advice'), true, 'the advice is back');
    }
  });

  test('no step while a gateway answers; "I run the gateway myself" puts it away for good', async (t) => {
    const answering = await openDetailsWindow(t);
    await shows(answering.page, 'ready');
    await answering.page.waitForTimeout(500);
    assert.equal(await visible(answering.page, 'setup'), false);
    assert.equal(await visible(answering.page, 'process'), false, 'no folder: no gateway process part');

    const port = await freePort();
    const w = await openDetailsWindow(t, { settings: { gateway: `https://127.0.0.1:${port}` } });
    await w.page.waitForSelector('#setup:not([hidden])');
    w.fail('settings:save', 'disk full');
    await w.page.click('#setup-dismiss');
    await until(w.page, 'the failure', 'message', /^Could not dismiss the gateway step: disk full/);
    assert.equal(await visible(w.page, 'setup'), true);
    w.fail('settings:save', undefined);
    await w.page.click('#setup-dismiss');
    await w.page.waitForSelector('#setup', { state: 'hidden' });
    await until(w.page, 'the answer', 'message', /^Not asked again\./);
    assert.equal(JSON.parse(readFileSync(settingsFile(w), 'utf8')).gatewaySetupDismissed, true);
    await w.page.click('[data-action="check"]');
    await w.page.waitForTimeout(500);
    assert.equal(await visible(w.page, 'setup'), false, 'still away after another check');
  });

  test('Show gateway log: disabled with the reason until the gateway has a log of today, then opens it', async (t) => {
    const gateway = copyGateway(t, await freePort());
    const w = await openDetailsWindow(t, { settings: { gatewayDir: gateway }, openPathAnswer: '' });
    await shows(w.page, 'ready');
    await w.page.waitForSelector('#process:not([hidden])');
    assert.match(await text(w.page, 'process-state'), /^Not run by the app/);
    const today = gatewayLogFile(gateway, Date.now());
    assert.equal(await w.page.isDisabled('#show-gateway-log'), true);
    assert.equal(await text(w.page, 'gateway-log-why'), `No log yet today: the gateway writes ${today} once it runs.`);
    assert.equal(await w.page.getAttribute('#show-gateway-log', 'aria-describedby'), 'gateway-log-why');
    mkdirSync(path.dirname(today), { recursive: true });
    writeFileSync(today, '');
    w.push();
    await w.page.waitForSelector('#show-gateway-log:not([disabled])');
    assert.equal(await text(w.page, 'gateway-log-why'), '');
    assert.equal(await w.page.getAttribute('#show-gateway-log', 'title'), today);
    await w.page.click('#show-gateway-log');
    await until(w.page, 'opened', 'message', /^Opened /);
    assert.deepEqual(w.opened, [`path:${today}`]);
    w.fail('gateway:show-log', 'the main process is gone');
    await w.page.click('#show-gateway-log');
    await until(w.page, 'the failure', 'message', /^Could not show the gateway log: the main process is gone/);
    rmSync(today);
    w.push();
    await w.page.waitForSelector('#show-gateway-log[disabled]');
  });

  test('a failure to open the log is shown in the window', async (t) => {
    const gateway = copyGateway(t, await freePort());
    const today = gatewayLogFile(gateway, Date.now());
    mkdirSync(path.dirname(today), { recursive: true });
    writeFileSync(today, '');
    const w = await openDetailsWindow(t, { settings: { gatewayDir: gateway }, openPathAnswer: 'No application' });
    await w.page.waitForSelector('#show-gateway-log:not([disabled])');
    await w.page.click('#show-gateway-log');
    const said = await until(w.page, 'the failure', 'message', /^Could not open /);
    assert.equal(said, `Could not open ${today}: No application`);
    assert.equal(await w.page.locator('#message').evaluate((m) => m.classList.contains('bad')), true);
  });

  for (const scheme of ['light', 'dark'] as const) {
    test(`${scheme}: IBKR's real gateway run by the app: its process in the Status view, its console log opened`, {
      timeout: 180_000,
    }, async (t) => {
      const note = reaper(t);
      const gateway = copyGateway(t, await freePort());
      const w = await openDetailsWindow(t, {
        colorScheme: scheme,
        intervalSeconds: 60,
        settings: { gatewayDir: gateway, runGateway: true },
      });
      await shows(w.page, 'ready');
      await until(w.page, 'the gateway running', 'process-state', /^Running: /, 120_000);
      const facts = w.core.state().gateway!;
      note(facts.pid);
      assert.equal(await text(w.page, 'process-state'), `Running: ${facts.reason}.`);
      assert.match(await text(w.page, 'process-pid'), new RegExp(`^pid ${facts.pid}, since .+, no restarts$`));
      assert.match(await text(w.page, 'process-build'), /^a27ed42 of .+, Java \d+[.\d]*$/);
      assert.equal(await w.page.isDisabled('#show-gateway-log'), false);
      await fitsWidth(w.page);
      await w.page.locator('#process').scrollIntoViewIfNeeded();
      await shot(w, `window-gateway-${scheme}`);
      await w.page.click('#show-gateway-log');
      await until(w.page, 'opened', 'message', /^Opened /);
      assert.deepEqual(w.opened, [`path:${consoleLogFile(w.dir, facts.port)}`]);
    });
  }
});
