/**
 * The app's notifications with a small fake of Electron's Notification: Electron's own where it
 * supports them, node-notifier's sink where not, every failure reported, clicks delivered, and
 * nothing held once a notification is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppNotifier, nativeOptions } from '../../main/desktop/notifications.ts';
import type { Notification } from '../../main/session/notifications.ts';
import { FakeNotification } from './electron-fakes.ts';

const note = (kind: Notification['kind'], title = 'IBKR login needed'): Notification => ({
  kind,
  title,
  message: 'Open the gateway and log in.',
  state: 'login-required',
  gateway: 'https://localhost:5000',
});

function rig(supported = true) {
  FakeNotification.all = [];
  const fallback: Notification[] = [];
  const clicks: Notification[] = [];
  const errors: string[] = [];
  const notifier = new AppNotifier({
    isSupported: () => supported,
    create: (options) => new FakeNotification(options as Record<string, unknown>),
    fallback: { show: async (n) => void fallback.push(n) },
    onClick: (n) => void clicks.push(n),
    onError: (message) => void errors.push(message),
    icon: '/app/assets/icon.png',
  });
  return { notifier, fallback, clicks, errors };
}

test(
  "Electron's notification, credited to the app: a " + 'problem stays until dismissed, a recovery goes by itself',
  async () => {
    const r = rig();
    await r.notifier.show(note('login-required'));
    const [shown] = FakeNotification.all;
    assert.equal(shown!.shown, true);
    assert.deepEqual(shown!.options, {
      title: 'IBKR login needed',
      body: 'Open the gateway and log in.',
      icon: '/app/assets/icon.png',
      urgency: 'critical',
      timeoutType: 'never',
    });
    assert.deepEqual(
      [nativeOptions(note('recovery')).urgency, nativeOptions(note('recovery')).timeoutType],
      ['normal', 'default'],
    );
    assert.deepEqual(r.fallback, [], 'node-notifier is not used');
  },
);

test(
  'a click reaches the app with the notification it ' + 'was; a notification is held until clicked or closed',
  async () => {
    const r = rig();
    await r.notifier.show(note('login-required'));
    await r.notifier.show(note('competing', 'Another login holds your IBKR session'));
    assert.equal(r.notifier.held, 2);
    FakeNotification.all[0]!.emit('click');
    FakeNotification.all[1]!.emit('close');
    assert.deepEqual(
      r.clicks.map((n) => n.kind),
      ['login-required'],
    );
    assert.equal(r.notifier.held, 0);
  },
);

test('where Electron has no notifications, node-notifier shows them', async () => {
  const r = rig(false);
  await r.notifier.show(note('drop', 'IBKR session dropped'));
  assert.deepEqual(
    r.fallback.map((n) => n.kind),
    ['drop'],
  );
  assert.equal(FakeNotification.all.length, 0);
});

test('a notification that fails, or cannot even be made, is reported with its title and why', async () => {
  const r = rig();
  FakeNotification.failNext = 'toast refused';
  await r.notifier.show(note('login-required'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(r.errors, ['Could not show the notification "IBKR login needed" (toast refused).']);
  assert.equal(r.notifier.held, 0);
  const broken = new AppNotifier({
    isSupported: () => true,
    create: () => {
      throw new Error('no D-Bus session');
    },
    fallback: { show: async () => undefined },
    onClick: () => undefined,
    onError: (message) => void r.errors.push(message),
  });
  await broken.show(note('drop', 'IBKR session dropped'));
  assert.equal(r.errors[1], 'Could not show the notification "IBKR session dropped" (no D-Bus session).');
});
