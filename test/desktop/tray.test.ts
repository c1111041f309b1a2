/** The tray with a small fake of Electron's Tray and Menu: icons per state, menu per state, updates only on change. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Menu, MenuItem, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { PNG } from 'pngjs';
import type { Action } from '../../main/contract.ts';
import { menuTemplate, setupTray, tooltipFor, type TrayDeps } from '../../main/desktop/tray.ts';
import type { KeeperStatus } from '../../main/session/keeper.ts';
import { DEFAULT_SETTINGS } from '../../main/session/settings.ts';
import { SESSION_STATES, STATE_INFO, type SessionState } from '../../main/session/states.ts';
import { ROOT } from '../helpers.ts';

const status = (state: SessionState, reason = 'why', userName?: string): KeeperStatus => ({
  gateway: 'https://localhost:5000', state, previous: null, reason, facts: userName ? { userName } : {}, since: '', lastTickleAt: null, nextCheckAt: null, reauthAttempts: 0,
});

const RGB: Record<string, [number, number, number]> = {
  grey: [0x8a, 0x8f, 0x98], green: [0x2e, 0xa0, 0x43], amber: [0xd2, 0x99, 0x22], orange: [0xe8, 0x59, 0x0c], red: [0xd1, 0x24, 0x2f], purple: [0x82, 0x50, 0xdf], hollow: [0x8a, 0x8f, 0x98],
};

function pixel(file: string, u: number, v: number): number[] {
  const png = PNG.sync.read(readFileSync(file));
  const i = (Math.floor(v * png.height) * png.width + Math.floor(u * png.width)) * 4;
  return [...png.data.subarray(i, i + 4)];
}

describe('tray icons', () => {
  test('every state has 16 and 32 px icons with @2x, in the colour of DESIGN.md\'s table', () => {
    for (const state of SESSION_STATES) {
      for (const [suffix, size] of [['', 16], ['@2x', 32], ['-32', 32], ['-32@2x', 64]] as const) {
        const file = path.join(ROOT, 'assets/tray', `${state}${suffix}.png`);
        const png = PNG.sync.read(readFileSync(file));
        assert.deepEqual([png.width, png.height], [size, size], file);
      }
      const file = path.join(ROOT, 'assets/tray', `${state}-32@2x.png`);
      const [r, g, b, a] = pixel(file, 0.2, 0.5);
      assert.deepEqual([r, g, b], RGB[STATE_INFO[state].colour], `${state} is ${STATE_INFO[state].colour}`);
      assert.equal(a, 255);
    }
  });

  test('where colour alone would not tell, a mark does: paused is hollow, a changed certificate has "!"', () => {
    assert.equal(pixel(path.join(ROOT, 'assets/tray/paused-32@2x.png'), 0.5, 0.5)[3], 0, 'hollow');
    assert.deepEqual(pixel(path.join(ROOT, 'assets/tray/untrusted-certificate-32@2x.png'), 0.5, 0.4).slice(0, 3), [255, 255, 255]);
    assert.deepEqual(pixel(path.join(ROOT, 'assets/tray/login-required-32@2x.png'), 0.5, 0.4).slice(0, 3), RGB['red']);
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
    showDetails: () => void (details += 1),
    setLaunchAtLogin: (enabled) => void launch.push(enabled),
    quit: () => undefined,
  };
  return { deps, fake, acted, launch, details: () => details };
}

const item = (menu: unknown, id: string): MenuItemConstructorOptions => (menu as MenuItemConstructorOptions[]).find((i) => i.id === id)!;
const click = (menu: unknown, id: string, checked = false): void => item(menu, id).click!({ checked } as MenuItem, undefined as never, undefined as never);

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
    assert.equal(r.fake.calls.filter(([name]) => name === 'setToolTip').at(-1)![1], 'IBKR Session Keeper: Another login holds the session. why');
    assert.equal(tooltipFor(status('ready', 'x'.repeat(300))).length, 127);
  });

  test('the menu carries every action; Take over only when competing; the state line names the user', () => {
    const r = rig();
    const labels = (s: SessionState) => menuTemplate(status(s, 'why', 'simuser1'), DEFAULT_SETTINGS, r.deps).filter((i) => i.visible !== false && i.type !== 'separator').map((i) => i.label);
    assert.deepEqual(labels('ready'), ['Session ready (simuser1)', 'Show details', 'Open login page', 'Reauthenticate', 'Log out…', 'Pause keeping alive', 'Launch at login', 'Quit IBKR Session Keeper']);
    assert.ok(labels('competing').includes('Take over from the other login'));
    assert.ok(labels('paused').includes('Resume keeping alive'));
    assert.equal(item(menuTemplate(status('paused'), DEFAULT_SETTINGS, r.deps), 'reauthenticate').enabled, false);
    assert.equal(item(menuTemplate(status('ready'), DEFAULT_SETTINGS, r.deps), 'state').enabled, false, 'the state line is not a button');
  });

  test('menu items act; Log out asks first; Launch at login is a checkbox that follows the setting', () => {
    const refuse = rig(false);
    click(menuTemplate(status('ready'), DEFAULT_SETTINGS, refuse.deps), 'logout');
    assert.deepEqual(refuse.acted, [], 'nothing without confirmation');
    const r = rig(true);
    const menu = menuTemplate(status('competing'), { ...DEFAULT_SETTINGS, launchAtLogin: true }, r.deps);
    for (const id of ['logout', 'take-over', 'reauthenticate', 'login', 'pause']) click(menu, id);
    assert.deepEqual(r.acted, ['logout', 'take-over', 'reauthenticate', 'open-login-page', 'pause']);
    click(menu, 'details');
    assert.equal(r.details(), 1);
    assert.equal(item(menu, 'launch').checked, true);
    click(menu, 'launch', false);
    assert.deepEqual(r.launch, [false]);
  });

  test('the menu is set again when what it shows changes (Linux needs it), not on every update', () => {
    const r = rig();
    const tray = setupTray(r.deps, status('ready'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'other reason'), DEFAULT_SETTINGS);
    tray.update(status('ready', 'other reason'), { ...DEFAULT_SETTINGS, launchAtLogin: true });
    tray.update(status('competing'), { ...DEFAULT_SETTINGS, launchAtLogin: true });
    assert.equal(r.fake.calls.filter(([name]) => name === 'setContextMenu').length, 3);
    r.fake.handlers['click']!();
    assert.equal(r.details(), 1, 'a click on the icon opens the details where clicks arrive');
  });
});
