/**
 * The tray with a small fake of Electron's Tray and Menu: icons per state, menu per state, updates
 * only on change; and the icon files themselves, read pixel by pixel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Menu, MenuItem, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { PNG } from 'pngjs';
import { controlsFor, type Action } from '../../main/contract.ts';
import { trayIconFile } from '../../main/desktop/icons.ts';
import { menuTemplate, setupTray, tooltipFor, type TrayDeps } from '../../main/desktop/tray.ts';
import type { KeeperStatus } from '../../main/session/keeper.ts';
import { rgb, stateHex } from '../../main/session/palette.ts';
import { DEFAULT_SETTINGS } from '../../main/session/settings.ts';
import { SESSION_STATES, STATE_INFO, type SessionState } from '../../main/session/states.ts';
import { ROOT } from '../helpers.ts';

const status = (state: SessionState, reason = 'why', userName?: string): KeeperStatus => ({
  gateway: 'https://localhost:5000',
  state,
  previous: null,
  reason,
  facts: userName ? { userName } : {},
  since: '',
  lastTickleAt: null,
  nextCheckAt: null,
  reauthAttempts: 0,
});

/** The alpha channel of an icon: its shape with every colour removed. */
function alpha(file: string): { size: number; a: Uint8Array; rgb: Set<string> } {
  const png = PNG.sync.read(readFileSync(file));
  const a = new Uint8Array(png.width * png.height);
  const rgb = new Set<string>();
  for (let i = 0; i < a.length; i += 1) {
    a[i] = png.data[i * 4 + 3]!;
    if (a[i]! > 0) rgb.add([...png.data.subarray(i * 4, i * 4 + 3)].join(','));
  }
  return { size: png.width, a, rgb };
}
const icon = (name: string) => alpha(path.join(ROOT, 'assets/tray', name));

describe('tray icons', () => {
  test('every state has 16 and 32 px icons with @2x, and macOS template images, of the right sizes', () => {
    for (const state of SESSION_STATES) {
      for (const [suffix, size] of [
        ['', 16],
        ['@2x', 32],
        ['-32', 32],
        ['-32@2x', 64],
        ['Template', 16],
        ['Template@2x', 32],
      ] as const) {
        assert.equal(icon(`${state}${suffix}.png`).size, size, `${state}${suffix}.png`);
      }
    }
  });

  test("each icon is drawn in its state's colour from the one palette, and nothing else", () => {
    for (const state of SESSION_STATES) {
      const hex = stateHex(STATE_INFO[state]);
      for (const suffix of ['', '-32', '-32@2x']) {
        const { rgb: colours, a } = icon(`${state}${suffix}.png`);
        assert.deepEqual(
          [...colours],
          [rgb(hex).join(',')],
          `${state}${suffix}.png is ${STATE_INFO[state].colour} (${hex})`,
        );
        const ink = a.reduce((sum, v) => sum + v, 0) / 255 / a.length;
        assert.ok(
          ink > 0.2,
          `${state}${suffix}.png covers ${Math.round(ink * 100)} % of its square: enough to be seen`,
        );
      }
    }
  });

  test('macOS templates are black, with the same shape as the coloured icon', () => {
    for (const state of SESSION_STATES) {
      for (const [template, coloured] of [
        ['Template', ''],
        ['Template@2x', '@2x'],
      ]) {
        const t = icon(`${state}${template}.png`);
        assert.deepEqual([...t.rgb], ['0,0,0'], `${state}${template}.png is monochrome`);
        assert.deepEqual(
          t.a,
          icon(`${state}${coloured}.png`).a,
          `${state}${template}.png has the shape of ${state}${coloured}.png`,
        );
      }
    }
  });

  test('with colour removed, every pair of states still differs in shape at 16 and 32 px', () => {
    for (const [suffix, minimum] of [
      ['', 16],
      ['-32', 64],
    ] as const) {
      const masks = SESSION_STATES.map((state) => ({
        state,
        mask: icon(`${state}${suffix}.png`).a.map((v) => (v >= 128 ? 1 : 0)),
      }));
      for (let i = 0; i < masks.length; i += 1) {
        for (let j = i + 1; j < masks.length; j += 1) {
          const differ = masks[i]!.mask.reduce((n, v, k) => n + (v === masks[j]!.mask[k] ? 0 : 1), 0);
          assert.ok(
            differ >= minimum,
            `${masks[i]!.state} and ${masks[j]!.state} differ ` +
              `in ${differ} pixels at ${suffix || '16 px'} (at least ${minimum})`,
          );
        }
      }
    }
  });

  test('paused is hollow, a changed certificate has a cut-out "!", login required is a padlock with a keyhole', () => {
    const at = (name: string, u: number, v: number): number => {
      const { size, a } = icon(name);
      return a[Math.floor(v * size) * size + Math.floor(u * size)]!;
    };
    assert.equal(at('paused-32@2x.png', 0.5, 0.5), 0, 'between the pause bars');
    assert.equal(at('paused-32@2x.png', 0.5, 0.1), 255, 'the ring');
    assert.equal(at('untrusted-certificate-32@2x.png', 0.5, 0.4), 0, 'the bar of "!"');
    assert.equal(at('untrusted-certificate-32@2x.png', 0.25, 0.4), 255, 'the shield beside it');
    assert.equal(at('login-required-32@2x.png', 0.5, 0.64), 0, 'the keyhole');
    assert.equal(at('login-required-32@2x.png', 0.5, 0.25), 0, 'inside the shackle');
  });

  test('macOS shows a template where the colour says nothing the shape does not', () => {
    assert.equal(trayIconFile('ready', 'darwin'), 'readyTemplate.png');
    assert.equal(trayIconFile('paused', 'darwin'), 'pausedTemplate.png');
    assert.equal(trayIconFile('login-required', 'darwin'), 'login-required.png');
    assert.equal(trayIconFile('competing', 'darwin'), 'competing.png');
    assert.equal(trayIconFile('ready', 'linux'), 'ready-32.png');
    assert.equal(trayIconFile('keeper-error', 'win32'), 'keeper-error.png');
  });
});

function fakeTray() {
  const calls: Array<[string, unknown]> = [];
  const handlers: Record<string, () => void> = {};
  const tray = {
    setImage: (image: NativeImage | string) => void calls.push(['setImage', image]),
    setToolTip: (tip: string) => void calls.push(['setToolTip', tip]),
    setContextMenu: (menu: Menu | null) => void calls.push(['setContextMenu', menu]),
    destroy: () => void calls.push(['destroy', null]),
    on: ((event: string, listener: () => void) => {
      handlers[event] = listener;
      return tray;
    }) as unknown as Tray['on'],
  } satisfies Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'destroy' | 'on'>;
  return { tray, calls, handlers };
}

function rig(confirmAnswer = true) {
  const fake = fakeTray();
  const acted: Action[] = [];
  const launch: boolean[] = [];
  let details = 0;
  const deps: TrayDeps = {
    createTray: (image) => {
      fake.calls.push(['create', image]);
      return fake.tray;
    },
    buildMenu: (template) => template as unknown as Menu,
    image: (state) => `icon:${state}` as unknown as NativeImage,
    confirm: () => confirmAnswer,
    act: (action) => void acted.push(action),
    openLoginInBrowser: () => void acted.push('open-login-page-in-browser' as Action),
    showDetails: () => void (details += 1),
    setLaunchAtLogin: (enabled) => void launch.push(enabled),
    quit: () => undefined,
  };
  return { deps, fake, acted, launch, details: () => details };
}

const item = (menu: unknown, id: string): MenuItemConstructorOptions =>
  (menu as MenuItemConstructorOptions[]).find((i) => i.id === id)!;
const click = (menu: unknown, id: string, checked = false): void =>
  item(menu, id).click!({ checked } as MenuItem, undefined as never, undefined as never);

describe('tray', () => {
  test('the image is set only when the state changes; the tooltip says state and reason', () => {
    const r = rig();
    const tray = setupTray(r.deps, status('starting'), DEFAULT_SETTINGS);
    assert.deepEqual(r.fake.calls[0], ['create', 'icon:starting']);
    tray.update(status('starting'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'Authenticated.'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'Authenticated.'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'Authenticated as someone.'), DEFAULT_SETTINGS);
    tray.update(status('competing'), DEFAULT_SETTINGS);
    const images = r.fake.calls.filter(([name]) => name === 'setImage').map(([, image]) => image);
    assert.deepEqual(images, ['icon:ready', 'icon:competing']);
    assert.equal(
      r.fake.calls.filter(([name]) => name === 'setToolTip').at(-1)![1],
      'IBKR Session Keeper: Another login holds the session. why',
    );
    assert.equal(tooltipFor(status('ready', 'x'.repeat(300))).length, 127);
  });

  test('the menu carries every action; Take over only when competing; the state line names the user', () => {
    const r = rig();
    const labels = (s: SessionState) =>
      menuTemplate(status(s, 'why', 'simuser1'), DEFAULT_SETTINGS, r.deps)
        .filter((i) => i.visible !== false && i.type !== 'separator')
        .map((i) => i.label);
    assert.deepEqual(labels('ready'), [
      'Session ready (simuser1)',
      'Show details',
      'Log in',
      'Open login page in browser',
      'Reauthenticate',
      'Log out…',
      'Pause keeping alive',
      'Launch at login',
      'Quit IBKR Session Keeper',
    ]);
    assert.ok(labels('competing').includes('Take over from the other login'));
    assert.ok(labels('paused').includes('Resume keeping alive'));
    assert.equal(item(menuTemplate(status('paused'), DEFAULT_SETTINGS, r.deps), 'reauthenticate').enabled, false);
    assert.equal(
      item(menuTemplate(status('ready'), DEFAULT_SETTINGS, r.deps), 'state').enabled,
      false,
      'the state line is not a button',
    );
  });

  test('the menu enables and shows what the window does, by the one rule of the contract', () => {
    const r = rig();
    for (const state of SESSION_STATES) {
      const can = controlsFor(state);
      const menu = menuTemplate(status(state), DEFAULT_SETTINGS, r.deps);
      assert.equal(item(menu, 'reauthenticate').enabled, can.reauthenticate.enabled, `${state}: Reauthenticate`);
      assert.equal(item(menu, 'logout').enabled, can.logout.enabled, `${state}: Log out`);
      assert.equal(item(menu, 'take-over').visible, can['take-over'].visible, `${state}: Take over`);
      assert.equal(
        item(menu, 'pause').label,
        can.pause.visible ? 'Pause keeping alive' : 'Resume keeping alive',
        `${state}: Pause`,
      );
    }
    assert.equal(
      controlsFor('untrusted-certificate').reauthenticate.enabled,
      false,
      'nothing goes to a gateway whose certificate changed',
    );
    assert.equal(controlsFor('rate-limited').logout.enabled, false, 'nothing is sent during a penalty');
    assert.match(controlsFor('paused').logout.why ?? '', /resume first/);
  });

  test('menu items act; Log out asks first; Launch at login is a checkbox that follows the setting', async () => {
    const refuse = rig(false);
    click(menuTemplate(status('ready'), DEFAULT_SETTINGS, refuse.deps), 'logout');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(refuse.acted, [], 'nothing without confirmation');
    const r = rig(true);
    const menu = menuTemplate(status('competing'), { ...DEFAULT_SETTINGS, launchAtLogin: true }, r.deps);
    for (const id of ['logout', 'take-over', 'reauthenticate', 'login', 'login-browser', 'pause']) {
      click(menu, id);
      await new Promise((resolve) => setImmediate(resolve)); // the confirmation is asynchronous
    }
    assert.deepEqual(r.acted, [
      'logout',
      'take-over',
      'reauthenticate',
      'open-login-page',
      'open-login-page-in-browser',
      'pause',
    ]);
    click(menu, 'details');
    assert.equal(r.details(), 1);
    assert.equal(item(menu, 'launch').checked, true);
    click(menu, 'launch', false);
    assert.deepEqual(r.launch, [false]);
  });

  test(
    "Launch at login shows the system's state, read back: on, off, waiting for approval, only in the " +
      'installed app',
    () => {
      const r = rig();
      const launch = (state: 'on' | 'off' | 'requires-approval' | 'not-packaged') =>
        item(
          menuTemplate(status('ready'), { ...DEFAULT_SETTINGS, launchAtLogin: true }, r.deps, {
            state,
            text: `text of ${state}`,
          }),
          'launch',
        );
      assert.deepEqual(
        [launch('on').label, launch('on').checked, launch('on').enabled],
        ['Launch at login', true, true],
      );
      assert.equal(launch('off').checked, false, 'the system says off, whatever the setting');
      assert.deepEqual(
        [launch('requires-approval').label, launch('requires-approval').checked],
        ['Launch at login (approve in System Settings)', true],
      );
      assert.deepEqual(
        [launch('not-packaged').label, launch('not-packaged').enabled],
        ['Launch at login (only in the installed app)', false],
      );
      assert.equal(launch('requires-approval').toolTip, 'text of requires-approval');
      let logs = 0;
      const withLogs = menuTemplate(status('ready'), DEFAULT_SETTINGS, { ...r.deps, openLogs: () => void (logs += 1) });
      assert.equal(item(withLogs, 'logs').visible, true);
      click(withLogs, 'logs');
      assert.equal(logs, 1);
    },
  );

  test('the menu is set again when what it shows changes (Linux needs it), not on every update', () => {
    const r = rig();
    const tray = setupTray(r.deps, status('ready'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'other reason'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'other reason'), { ...DEFAULT_SETTINGS, launchAtLogin: true });
    tray.update(status('competing'), { ...DEFAULT_SETTINGS, launchAtLogin: true });
    assert.equal(r.fake.calls.filter(([name]) => name === 'setContextMenu').length, 3);
    r.fake.handlers['click']!();
    assert.equal(r.details(), 1, 'a click on the icon opens the details where clicks arrive');
    let toggled = 0;
    const t = rig();
    setupTray({ ...t.deps, toggleDetails: () => void (toggled += 1) }, status('ready'), DEFAULT_SETTINGS);
    t.fake.handlers['click']!();
    assert.deepEqual([toggled, t.details()], [1, 0], 'with a popover, the click opens or closes it');
  });
});

describe('tray: the gateway the app runs', () => {
  test('Start, Stop and Restart gateway are in the menu with "Run the gateway with the app", and act', () => {
    const r = rig();
    const asked: string[] = [];
    const deps = { ...r.deps, gatewayAction: (a: string) => void asked.push(a) };
    const visible = (settings: typeof DEFAULT_SETTINGS) =>
      menuTemplate(status('ready'), settings, deps)
        .filter((i) => i.visible !== false && i.id?.startsWith('gateway-'))
        .map((i) => i.label);
    assert.deepEqual(visible(DEFAULT_SETTINGS), [], 'not without the setting');
    assert.deepEqual(visible({ ...DEFAULT_SETTINGS, runGateway: true }), [
      'Start gateway',
      'Stop gateway',
      'Restart gateway',
    ]);
    const menu = menuTemplate(status('ready'), { ...DEFAULT_SETTINGS, runGateway: true }, deps);
    for (const id of ['gateway-stop', 'gateway-start', 'gateway-restart']) click(menu, id);
    assert.deepEqual(asked, ['stop', 'start', 'restart']);
  });

  test('Show gateway log: with a gateway folder; greyed out with the reason until there is a log; opens it', () => {
    const r = rig();
    let shown = 0;
    const deps = { ...r.deps, showGatewayLog: () => void (shown += 1) };
    const settings = { ...DEFAULT_SETTINGS, gatewayDir: '/gw' };
    const none = { shown: false, file: null, why: null };
    assert.equal(item(menuTemplate(status('ready'), settings, deps, undefined, none), 'gateway-log').visible, false);
    const why = 'No log yet today: the gateway writes /gw/logs/gw.2026-11-29.log once it runs.';
    const early = item(
      menuTemplate(status('ready'), settings, deps, undefined, { shown: true, file: null, why }),
      'gateway-log',
    );
    assert.deepEqual([early.visible, early.enabled, early.toolTip], [true, false, why]);
    const log = { shown: true, file: '/gw/logs/gw.2026-11-29.log', why: null };
    const menu = menuTemplate(status('ready'), settings, deps, undefined, log);
    assert.deepEqual([item(menu, 'gateway-log').visible, item(menu, 'gateway-log').enabled], [true, true]);
    click(menu, 'gateway-log');
    assert.equal(shown, 1);
    // The menu is set again when the log appears (Linux shows a menu only as it was set).
    const tray = setupTray(deps, status('ready'), settings, undefined, { shown: true, file: null, why });
    tray.update(status('ready'), settings, undefined, log);
    tray.update(status('ready'), settings, undefined, log);
    assert.equal(r.fake.calls.filter(([name]) => name === 'setContextMenu').length, 2);
  });
});
