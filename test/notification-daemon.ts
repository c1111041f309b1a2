/**
 * A real desktop notification service for tests: Xvfb, a D-Bus session bus and dunst, whose
 * `-print` output shows every notification it received. Needs the Debian packages xvfb, dbus and
 * dunst (and libnotify-bin for notify-send), which .ci/run installs; without them the tests fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface ReceivedNotification {
  appname: string;
  summary: string;
  body: string;
  urgency: string;
}

export interface NotificationDaemon {
  /** The environment a process needs to reach this daemon. */
  env: NodeJS.ProcessEnv;
  received(): ReceivedNotification[];
  /** Resolves when a notification whose summary matches has arrived. */
  waitFor(summary: RegExp, timeoutMs?: number): Promise<ReceivedNotification>;
}

function need(command: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    throw new Error(
      `${command} is missing: install the Debian package ${pkg} (.ci/run does) to run the notification tests.`,
    );
  }
}

export async function startNotificationDaemon(t: TestContext): Promise<NotificationDaemon> {
  need('Xvfb', 'xvfb');
  need('dbus-daemon', 'dbus');
  need('dunst', 'dunst');
  need('notify-send', 'libnotify-bin');
  const children: ChildProcess[] = [];
  t.after(() => children.forEach((c) => c.kill('SIGKILL')));

  const display = `:${200 + Math.floor(Math.random() * 500)}`;
  children.push(spawn('Xvfb', [display, '-nolisten', 'tcp', '-screen', '0', '640x480x24'], { stdio: 'ignore' }));
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(bus);
  const address = await new Promise<string>((resolve, reject) => {
    bus.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    bus.once('exit', () => reject(new Error('dbus-daemon exited')));
  });
  const env = { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: address };
  await new Promise((r) => setTimeout(r, 300)); // Xvfb takes a moment to accept clients
  const dunst = spawn('dunst', ['-print'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(dunst);
  let out = '';
  let err = '';
  dunst.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  dunst.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // dunst owns the bus name once it is ready: wait for it, so the first notification is not lost.
  for (let i = 0; i < 50; i += 1) {
    const names = spawnSync(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.ListNames',
      ],
      { env },
    );
    if (names.stdout?.toString().includes('org.freedesktop.Notifications')) break;
    if (i === 49) throw new Error(`dunst did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const received = (): ReceivedNotification[] =>
    out
      .split(/\n}\n?/)
      .filter((block) => block.includes('summary:'))
      .map((block) => {
        const field = (name: string): string => new RegExp(`\\t${name}: '?([^'\\n]*)'?`).exec(block)?.[1] ?? '';
        return { appname: field('appname'), summary: field('summary'), body: field('body'), urgency: field('urgency') };
      });
  return {
    env,
    received,
    waitFor: (summary, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = (): void => {
          const hit = received().find((n) => summary.test(n.summary));
          if (hit) return resolve(hit);
          if (Date.now() > deadline)
            return reject(
              new Error(
                `no notification "${summary}" within ${timeoutMs} ms; dunst received: ${JSON.stringify(received())}`,
              ),
            );
          setTimeout(poll, 50);
        };
        poll();
      }),
  };
}
