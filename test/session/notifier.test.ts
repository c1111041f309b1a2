/**
 * Notifications for real: node-notifier through notify-send to dunst on a D-Bus session under
 * Xvfb; the tests read what dunst received, as a person would see it in the corner of the screen.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, test } from 'node:test';
import { NOTIFICATION_KINDS, type Notification } from '../../main/session/notifications.ts';
import { DesktopNotifier } from '../../main/session/notifier.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';
import { startNotificationDaemon } from '../notification-daemon.ts';

describe('desktop notifications', () => {
  test('each kind arrives with its title, message and the app name', async (t) => {
    const daemon = await startNotificationDaemon(t);
    const saved = { ...process.env };
    Object.assign(process.env, daemon.env);
    t.after(() => {
      process.env['DISPLAY'] = saved['DISPLAY'];
      process.env['DBUS_SESSION_BUS_ADDRESS'] = saved['DBUS_SESSION_BUS_ADDRESS'];
    });
    const errors: string[] = [];
    const notifier = new DesktopNotifier({ onError: (m) => errors.push(m) });
    for (const kind of NOTIFICATION_KINDS) {
      const note: Notification = {
        kind,
        title: `Title of ${kind}`,
        message: `Message of ${kind}`,
        state: 'ready',
        gateway: 'https://localhost:5000',
      };
      await notifier.show(note);
      const got = await daemon.waitFor(new RegExp(`^Title of ${kind}$`));
      assert.equal(got.body, `Message of ${kind}`);
      assert.equal(got.appname, 'IBKR Session Keeper');
      assert.equal(got.urgency, kind === 'recovery' ? 'NORMAL' : 'CRITICAL');
    }
    assert.deepEqual(errors, []);
  });

  test('without a notification service the failure is reported, not thrown', async () => {
    const saved = process.env['DBUS_SESSION_BUS_ADDRESS'];
    process.env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/nonexistent/bus';
    try {
      const errors: string[] = [];
      await new DesktopNotifier({ onError: (m) => errors.push(m) }).show({
        kind: 'drop',
        title: 't',
        message: 'm',
        state: 'not-authenticated',
        gateway: 'g',
      });
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /Could not show a desktop notification .*is a notification service running\?/);
    } finally {
      process.env['DBUS_SESSION_BUS_ADDRESS'] = saved;
    }
  });

  test('watch --notify: a drop and the recovery reach the desktop; nothing on the clean start', async (t) => {
    const daemon = await startNotificationDaemon(t);
    const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/ibkr-keeper.js'),
        'watch',
        '--json',
        '--notify',
        '--interval',
        '1',
        '--gateway',
        sim.url,
        '--config-dir',
        tempDir(t),
      ],
      {
        env: daemon.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    await once(child.stdout, 'data');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(daemon.received(), [], 'nothing on a clean start');
    await sim.apply({ type: 'drop' });
    const drop = await daemon.waitFor(/^IBKR session dropped$/);
    assert.match(drop.body, /Reauthenticating now/);
    const back = await daemon.waitFor(/^IBKR session is back$/);
    assert.match(back.body, /simuser1/);
    await sim.apply({ type: 'expire-sso' });
    const login = await daemon.waitFor(/^IBKR login needed$/);
    assert.match(login.body, new RegExp(`Open ${sim.url.replaceAll('.', '\\.')} in a browser and log in`, 'i'));
    child.kill('SIGINT');
    assert.deepEqual(await once(child, 'exit'), [0, null]);
  });
});
