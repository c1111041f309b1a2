/** The Electron adapters with small fakes: IPC sender checks, the window's security, login items, power,
 * certificates. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../main/contract.ts';
import { toElectronFingerprint, verifyProc } from '../../main/desktop/certificates.ts';
import type { Handlers } from '../../main/desktop/handlers.ts';
import { ownWindowsOnly, setupIpc } from '../../main/desktop/ipc.ts';
import { autostartPath, NOT_PACKAGED, setupLaunchAtLogin } from '../../main/desktop/login-items.ts';
import { setupPower } from '../../main/desktop/power.ts';
import { setupWindows, windowOptions } from '../../main/desktop/windows.ts';
import { tempDir } from '../helpers.ts';

describe('IPC', () => {
  const page = 'file:///app/dist/renderer/index.html';
  function rig() {
    const registered = new Map<string, (event: IpcMainInvokeEvent, request: unknown) => unknown>();
    const ipcMain = {
      handle: (channel: string, fn: never) => void registered.set(channel, fn),
      removeHandler: (channel: string) => void registered.delete(channel),
    } satisfies Pick<IpcMain, 'handle' | 'removeHandler'>;
    const received: Array<[string, unknown]> = [];
    const handlers = Object.fromEntries(
      INVOKE_CHANNELS.map((c) => [c, async (request: unknown) => void received.push([c, request])]),
    ) as unknown as Handlers;
    const remove = setupIpc(
      ipcMain,
      handlers,
      ownWindowsOnly(() => [7], page),
    );
    const call = (channel: string, sender: { id: number; url: string }, request: unknown) =>
      registered.get(channel)!(
        { sender: { id: sender.id }, senderFrame: { url: sender.url } } as unknown as IpcMainInvokeEvent,
        request,
      );
    return { registered, received, call, remove };
  }

  test("every channel of the contract is answered for the app's own window", async () => {
    const r = rig();
    assert.deepEqual([...r.registered.keys()], [...INVOKE_CHANNELS]);
    await r.call('keeper:act', { id: 7, url: page }, { action: 'check' });
    assert.deepEqual(r.received, [['keeper:act', { action: 'check' }]]);
    r.remove();
    assert.equal(r.registered.size, 0);
  });

  test('a message from another window or another page is refused before any handler', () => {
    const r = rig();
    assert.throws(
      () => r.call('keeper:act', { id: 8, url: page }, { action: 'logout' }),
      /Refused "keeper:act" from a page that is not the app's own/,
    );
    assert.throws(() => r.call('settings:save', { id: 7, url: 'https://evil.example/' }, {}), /Refused/);
    assert.deepEqual(r.received, []);
  });
});

describe('details window', () => {
  test('sandboxed, isolated, no Node in the page', () => {
    const prefs = windowOptions({ preloadPath: '/p.cjs' }).webPreferences!;
    assert.deepEqual(
      [prefs.sandbox, prefs.contextIsolation, prefs.nodeIntegration, prefs.webSecurity, prefs.preload],
      [true, true, false, true, '/p.cjs'],
    );
    assert.equal(
      windowOptions({ preloadPath: '/p.cjs', devTools: false }).webPreferences!.devTools,
      false,
      'no DevTools in the installed app',
    );
  });

  test('no new windows, no navigation; one window at a time; state goes to it while open', () => {
    const events: Record<string, (e: { preventDefault(): void }) => void> = {};
    let openHandler: (() => { action: string }) | undefined;
    let created = 0;
    const sent: unknown[] = [];
    let closed: (() => void) | undefined;
    const fake = () => {
      created += 1;
      return {
        isDestroyed: () => false,
        show: () => undefined,
        focus: () => undefined,
        once: () => undefined,
        on: (event: string, fn: () => void) => void (event === 'closed' && (closed = fn)),
        loadURL: async (url: string) => void sent.push(['load', url]),
        webContents: {
          id: 3,
          setWindowOpenHandler: (fn: () => { action: string }) => void (openHandler = fn),
          on: (event: string, fn: (e: { preventDefault(): void }) => void) => void (events[event] = fn),
          send: (channel: string, state: unknown) => void sent.push([channel, state]),
        },
      } as unknown as BrowserWindow;
    };
    const windows = setupWindows({
      createWindow: fake,
      preloadPath: '/p.cjs',
      indexPath: '/app/dist/renderer/index.html',
    });
    windows.show();
    windows.show();
    assert.equal(created, 1);
    assert.deepEqual(openHandler!(), { action: 'deny' });
    let prevented = 0;
    events['will-navigate']!({ preventDefault: () => void (prevented += 1) });
    events['will-redirect']!({ preventDefault: () => void (prevented += 1) });
    assert.equal(prevented, 2);
    assert.deepEqual(sent[0], ['load', 'file:///app/dist/renderer/index.html']);
    assert.deepEqual(windows.ids(), [3]);
    windows.send({ x: 1 } as never);
    assert.deepEqual(sent[1], [STATE_CHANNEL, { x: 1 }]);
    closed!();
    windows.send({ x: 2 } as never);
    assert.equal(sent.length, 2, 'nothing sent to a closed window');
    assert.deepEqual(windows.ids(), []);
  });
});

describe('launch at login', () => {
  test('Linux: an autostart entry whose Exec is the AppImage when run as one; removed when turned off', (t) => {
    const home = tempDir(t);
    const env = { APPIMAGE: '/home/u/Apps/IBKR Session Keeper.AppImage' };
    const login = setupLaunchAtLogin({
      platform: 'linux',
      app: {} as never,
      env,
      home,
      execPath: '/tmp/.mount_x/ibkr',
    });
    login.set(true);
    const file = autostartPath({ env, home });
    assert.equal(file, path.join(home, '.config/autostart/ibkr-session-keeper.desktop'));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\[Desktop Entry\]\nType=Application\nName=IBKR Session Keeper\n/);
    assert.match(text, /\nExec="\/home\/u\/Apps\/IBKR Session Keeper\.AppImage"\n/);
    assert.equal(login.enabled(), true);
    login.set(false);
    assert.equal(existsSync(file), false);
    const plain = setupLaunchAtLogin({
      platform: 'linux',
      app: {} as never,
      env: { XDG_CONFIG_HOME: path.join(home, 'cfg') },
      home,
      execPath: '/usr/bin/ibkr-session-keeper',
    });
    plain.set(true);
    assert.match(
      readFileSync(path.join(home, 'cfg/autostart/ibkr-session-keeper.desktop'), 'utf8'),
      /Exec="\/usr\/bin\/ibkr-session-keeper"/,
    );
    const odd = setupLaunchAtLogin({
      platform: 'linux',
      app: {} as never,
      env: { XDG_CONFIG_HOME: path.join(home, 'cfg') },
      home,
      execPath: '/opt/100% "keeper"/$app',
    });
    odd.set(true);
    assert.match(
      readFileSync(path.join(home, 'cfg/autostart/ibkr-session-keeper.desktop'), 'utf8'),
      /\nExec="\/opt\/100%% \\"keeper\\"\/\\\$app"\n/,
    );
  });

  test('macOS and Windows: the system login item', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const calls: unknown[] = [];
      const app = {
        setLoginItemSettings: (s: unknown) => void calls.push(s),
        getLoginItemSettings: () => ({ openAtLogin: true }) as never,
      };
      const login = setupLaunchAtLogin({ platform, app, env: {}, home: '/h', execPath: 'C:\\App\\keeper.exe' });
      login.set(true);
      assert.deepEqual(calls, [{ openAtLogin: true, path: platform === 'win32' ? 'C:\\App\\keeper.exe' : undefined }]);
      assert.equal(login.enabled(), true);
    }
  });
});

describe('launch at login, read back', () => {
  test('Linux: on while the autostart file exists, off once removed', (t) => {
    const home = tempDir(t);
    const login = setupLaunchAtLogin({
      platform: 'linux',
      app: {} as Parameters<typeof setupLaunchAtLogin>[0]['app'],
      env: { XDG_CONFIG_HOME: path.join(home, 'cfg') },
      home,
      execPath: '/usr/bin/keeper',
    });
    assert.equal(login.status().state, 'off');
    login.set(true);
    assert.equal(login.status().state, 'on');
    login.set(false);
    assert.equal(login.status().state, 'off');
  });

  test("macOS: a login item waiting for the user's approval is shown as such", () => {
    let reported: { openAtLogin: boolean; status?: string } = { openAtLogin: false, status: 'requires-approval' };
    const app = {
      setLoginItemSettings: () => undefined,
      getLoginItemSettings: () => reported,
    } as unknown as Parameters<typeof setupLaunchAtLogin>[0]['app'];
    const login = setupLaunchAtLogin({
      platform: 'darwin',
      app,
      env: {},
      home: '/h',
      execPath: '/Applications/K.app/Contents/MacOS/K',
    });
    assert.deepEqual(login.status(), {
      state: 'requires-approval',
      text: 'Waiting for your approval: allow IBKR Session Keeper in System Settings, General, Login Items.',
    });
    reported = { openAtLogin: true, status: 'enabled' };
    assert.equal(login.status().state, 'on');
    reported = { openAtLogin: false, status: 'not-registered' };
    assert.equal(login.status().state, 'off');
  });

  test('unpackaged: nothing registered, and it says so', () => {
    assert.deepEqual(NOT_PACKAGED.status(), {
      state: 'not-packaged',
      text: 'Launch at login works only in the installed app.',
    });
  });
});

describe('power and certificates', () => {
  test('resume and screen unlock ask for a check', () => {
    const listeners: Record<string, () => void> = {};
    const woke: string[] = [];
    setupPower(
      { on: ((event: string, fn: () => void) => void (listeners[event] = fn)) as never },
      (why) => void woke.push(why),
    );
    listeners['resume']!();
    listeners['unlock-screen']!();
    assert.deepEqual(woke, ['resume', 'unlock-screen']);
  });

  test("Chromium accepts the gateway's origin only with the pinned certificate", () => {
    const pin = `AB:${'01:'.repeat(30)}CD`;
    const proc = verifyProc(() => ({ hostname: 'localhost', fingerprint256: pin }));
    const results: number[] = [];
    const ask = (hostname: string, fingerprint: string) =>
      proc(
        { hostname, certificate: { fingerprint } as never, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' },
        (r) => void results.push(r),
      );
    ask('localhost', toElectronFingerprint(pin));
    ask('localhost', toElectronFingerprint(`CD:${'01:'.repeat(30)}AB`));
    ask('example.com', 'sha256/xyz');
    assert.deepEqual(results, [0, -2, -3]);
    assert.equal(toElectronFingerprint(`${'00:'.repeat(31)}00`), `sha256/${Buffer.alloc(32).toString('base64')}`);
  });
});
