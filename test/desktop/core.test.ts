/** The desktop core in plain Node, against the simulator in virtual time: settings, launch at login, gateway
 * changes, handlers. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DesktopCore } from '../../main/desktop/core.ts';
import { BadRequest, createHandlers } from '../../main/desktop/handlers.ts';
import type { LoginTarget } from '../../main/desktop/login-policy.ts';
import type { Notification } from '../../main/session/notifications.ts';
import { DEFAULT_SETTINGS, SettingsFile } from '../../main/session/settings.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import type { Simulator } from '../../main/simulator/server.ts';
import { pattern, startSim, tempDir } from '../helpers.ts';
import { freePort } from '../real-gateway.ts';

async function coreRig(
  t: TestContext,
  options: { sim?: Simulator; settings?: Partial<typeof DEFAULT_SETTINGS>; dir?: string; loginWindow?: boolean } = {},
) {
  const sim = options.sim ?? (await startSim(t, { settings: { reauthLatencyMs: 3_000 } }));
  const dir = options.dir ?? tempDir(t);
  const file = SettingsFile.open(dir);
  if (options.settings !== null) file.write({ ...DEFAULT_SETTINGS, gateway: sim.url, ...options.settings });
  const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
  const notes: Notification[] = [];
  const launch: boolean[] = [];
  const opened: string[] = [];
  const loginTargets: LoginTarget[] = [];
  const core = new DesktopCore({
    configDir: dir,
    settings: file,
    clock: time,
    scheduler: time,
    sleep: time.sleep,
    timeoutMs: 2_000,
    notifier: { show: async (n) => void notes.push(n) },
    openExternal: async (url) => void opened.push(url),
    openLoginWindow: options.loginWindow
      ? (target) => {
          loginTargets.push(target);
          return { ok: true, message: 'Opened the login window.' };
        }
      : undefined,
    applyLaunchAtLogin: (enabled) => void launch.push(enabled),
  });
  t.after(() => core.stop());
  core.start();
  return { sim, dir, time, core, notes, launch, opened, file, loginTargets };
}

describe('desktop core', () => {
  test('launch at login turns on after the first successful session, once, unless decided', async (t) => {
    const r = await coreRig(t);
    await r.time.runFor(1_000);
    assert.equal(r.core.state().status.state, 'ready');
    assert.deepEqual(r.launch, [true]);
    assert.equal(JSON.parse(readFileSync(path.join(r.dir, 'settings.json'), 'utf8')).launchAtLogin, true);
    const decided = await coreRig(t, { settings: { launchAtLogin: false } });
    await decided.time.runFor(1_000);
    assert.deepEqual(decided.launch, [], 'a user who said no is not overruled');
  });

  test('a bad change is refused per field and nothing is saved; a new gateway restarts the keeper on it', async (t) => {
    const r = await coreRig(t);
    await r.time.runFor(1_000);
    const before = readFileSync(path.join(r.dir, 'settings.json'), 'utf8');
    const bad = await r.core.saveSettings({ intervalSeconds: 600, gateway: 'ftp://x' });
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.errors.intervalSeconds! : '', /at most 240 seconds/);
    assert.match(!bad.ok ? bad.errors.gateway! : '', /does not use https/);
    assert.equal(readFileSync(path.join(r.dir, 'settings.json'), 'utf8'), before);
    const other = await startSim(t);
    const good = await r.core.saveSettings({ gateway: `${other.url}/v1/api` });
    assert.equal(good.ok, true);
    assert.equal(r.core.settings.gateway, other.url, 'kept as the address alone');
    await r.time.runFor(1_000);
    assert.ok((other.counts()['/v1/api/tickle'] ?? 0) >= 1, 'the keeper talks to the new gateway');
    assert.equal(r.core.state().status.gateway, other.url);
  });

  test('notifications turned off in the settings are not shown', async (t) => {
    const r = await coreRig(t, { settings: { notifications: { ...DEFAULT_SETTINGS.notifications, drop: false } } });
    await r.time.runFor(1_000);
    await r.sim.apply({ type: 'drop' });
    await r.time.runFor(120_000);
    assert.deepEqual(
      r.notes.map((n) => n.kind),
      [],
      'no drop, and so no "back" out of nowhere',
    );
    await r.sim.apply({ type: 'compete' });
    await r.time.runFor(120_000);
    assert.deepEqual(
      r.notes.map((n) => n.kind),
      ['competing'],
    );
  });

  test('Open login page opens only the configured gateway over https', async (t) => {
    const r = await coreRig(t);
    const result = await r.core.act('open-login-page');
    assert.equal(result.ok, true);
    assert.deepEqual(r.opened, [`${r.sim.url}/`]);
  });

  test("Log in opens the app's login window with the pin of the gateway's origin, trusted first", async (t) => {
    const r = await coreRig(t, { loginWindow: true });
    // Before the keeper's first check: the core checks once, which trusts the loopback gateway on first use.
    const first = r.core.act('open-login-page');
    await r.time.runFor(1_000);
    assert.deepEqual(await first, { ok: true, message: 'Opened the login window.' });
    assert.deepEqual(r.loginTargets, [{ origin: r.sim.url, fingerprint256: r.sim.fingerprint256, state: 'ready' }]);
    assert.deepEqual(r.opened, [], 'not the browser');
    assert.match((await r.core.openLoginPageInBrowser()).message, /in your browser/);
    assert.deepEqual(r.opened, [`${r.sim.url}/`]);
    // A changed certificate: no window until the user trusted the new one.
    await r.sim.apply({ type: 'rotate-certificate' });
    await r.time.runFor(61_000);
    assert.equal(r.core.state().status.state, 'untrusted-certificate');
    const refused = await r.core.act('open-login-page');
    assert.equal(refused.ok, false);
    assert.match(refused.message, /^Not opened: the gateway presents a certificate that is not the trusted one/);
    assert.equal(r.loginTargets.length, 1);
  });

  test('Log in with no gateway answering: the window is asked with no pin (and refuses)', async (t) => {
    const url = `https://127.0.0.1:${await freePort()}`;
    const r = await coreRig(t, { loginWindow: true, settings: { gateway: url } });
    const result = r.core.act('open-login-page');
    await r.time.runFor(5_000);
    await result;
    assert.equal(r.loginTargets[0]!.fingerprint256, undefined);
    assert.equal(r.loginTargets[0]!.origin, url);
  });

  test('a new certificate is trusted only by the fingerprint the user was shown', async (t) => {
    const r = await coreRig(t);
    await r.time.runFor(1_000);
    await r.sim.apply({ type: 'rotate-certificate' });
    await r.time.runFor(61_000);
    assert.equal(r.core.state().status.state, 'untrusted-certificate');
    const wrong = await r.core.acceptCertificate(`${'11:'.repeat(31)}11`);
    assert.deepEqual(wrong, {
      ok: false,
      message: 'Not trusted: that is not the certificate the gateway presents now. Check again.',
    });
    assert.equal((await r.core.acceptCertificate('nope')).ok, false);
    const right = await r.core.acceptCertificate(r.sim.fingerprint256.toLowerCase());
    assert.equal(right.ok, true);
    assert.equal(r.core.state().status.state, 'ready');
    assert.equal(r.core.state().trust?.fingerprint256, r.sim.fingerprint256);
  });

  test('handlers check what the page sends', async (t) => {
    const r = await coreRig(t);
    const handlers = createHandlers(r.core);
    await assert.rejects(handlers['keeper:act']({ action: 'rm -rf' }), BadRequest);
    await assert.rejects(handlers['settings:save']('gateway=x'), /needs an object of settings/);
    await assert.rejects(handlers['trust:accept']({ fingerprint: 'x' }), /trust:accept needs/);
    assert.equal((await handlers['state:get'](null)).settings.gateway, r.sim.url);
  });
});

describe('settings file', () => {
  test('bad values in settings.json are named, replaced by defaults, and the file is left alone', (t) => {
    const dir = tempDir(t);
    const text = JSON.stringify({
      gateway: 'localhost:5000',
      intervalSeconds: 0,
      notifications: { drop: 'yes' },
      launchAtLogin: true,
    });
    writeFileSync(path.join(dir, 'settings.json'), text);
    const { settings, problems } = SettingsFile.open(dir).read();
    assert.equal(settings.gateway, DEFAULT_SETTINGS.gateway);
    assert.equal(settings.intervalSeconds, 60);
    assert.equal(settings.launchAtLogin, true, 'good values are kept');
    assert.equal(problems.length, 3);
    assert.match(
      problems[0]!,
      pattern(
        /settings\.json: "gateway" "localhost:5000" is not valid /,
        /\(.*does not use https.*\); using "https:\/\/localhost:5000"/,
      ),
    );
    assert.match(
      problems[1]!,
      /"intervalSeconds" 0 is not valid \(The interval must be at least 1 second\.\); using 60/,
    );
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')).intervalSeconds, 0);
  });

  test('a file that is not JSON gives a clear error naming it', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'settings.json'), '{ nope');
    assert.throws(() => SettingsFile.open(dir).read(), /settings\.json .*fix or delete the file/);
  });

  test(
    'a gateway saved with its API path (before 0.1.0) is ' + 'read as its address alone, and the file left alone',
    (t) => {
      const dir = tempDir(t);
      const text = JSON.stringify({ gateway: 'https://localhost:5001/v1/portal', intervalSeconds: 30 });
      writeFileSync(path.join(dir, 'settings.json'), text);
      const { settings, problems } = SettingsFile.open(dir).read();
      assert.equal(settings.gateway, 'https://localhost:5001');
      assert.equal(settings.intervalSeconds, 30);
      assert.deepEqual(problems, []);
      assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), text, 'reading writes nothing');
    },
  );
});

describe('one keeper per gateway (desktop core)', () => {
  test(
    'a second core on the same folder follows the first, sends nothing, refuses actions, and takes over when ' +
      'it stops',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 3_000 } });
      const dir = tempDir(t);
      SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, launchAtLogin: false });
      const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
      const make = (): DesktopCore => {
        const core = new DesktopCore({
          configDir: dir,
          settings: SettingsFile.open(dir),
          clock: time,
          scheduler: time,
          sleep: time.sleep,
          timeoutMs: 2_000,
          notifier: { show: async () => undefined },
          openExternal: async () => undefined,
          applyLaunchAtLogin: () => undefined,
        });
        t.after(() => core.stop());
        core.start();
        return core;
      };
      const first = make();
      await time.runFor(1_000);
      const second = make();
      await time.runFor(10 * 60_000);
      assert.deepEqual(first.state().role, { role: 'keeping' });
      const role = second.state().role;
      assert.equal(role.role, 'following');
      assert.deepEqual(
        role.role === 'following' && role.holder && { pid: role.holder.pid, program: role.holder.program },
        { pid: process.pid, program: 'desktop' },
      );
      assert.equal(second.state().status.state, 'ready', "it shows the holder's state");
      assert.equal(second.state().status.facts.userName, 'simuser1');
      const tickles = sim.counts()['/v1/api/tickle'] ?? 0;
      assert.ok(tickles >= 10 && tickles <= 12, `one keeper's tickles (one a minute), not two: ${tickles}`);
      const refused = await second.act('reauthenticate');
      assert.equal(refused.ok, false);
      assert.match(
        refused.message,
        /^pid \d+ \(the desktop app\) keeps this gateway's session\. Do that there, or stop it/,
      );
      await first.stop();
      await time.runFor(2_000);
      assert.deepEqual(second.state().role, { role: 'keeping' });
      await time.runFor(3 * 60_000);
      assert.ok((sim.counts()['/v1/api/tickle'] ?? 0) > tickles, 'the follower keeps the session now');
      assert.equal(second.state().status.state, 'ready');
      assert.equal(sim.limiter.violations, 0);
    },
  );
});

describe('settings are written only when saved (desktop core)', () => {
  test(
    'turning launch at login on after the first ready writes that key alone: unknown keys and values still ' +
      'to fix stay',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      const text = { gateway: sim.url, intervalSeconds: 9_999, futureKey: { kept: true } };
      writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(text));
      const r = await coreRig(t, { sim, dir, settings: null as never });
      assert.match(r.core.state().settingsProblems.join('\n'), /"intervalSeconds" 9999 is not valid/);
      await r.time.runFor(1_000);
      assert.equal(r.core.state().status.state, 'ready');
      assert.deepEqual(r.launch, [true]);
      assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')), {
        ...text,
        launchAtLogin: true,
      });
    },
  );

  test(
    'a settings.json that is not an object is named in the ' + 'window, the defaults stand in, and saving is refused',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      writeFileSync(path.join(dir, 'settings.json'), '[]');
      const r = await coreRig(t, { sim, dir, settings: null as never });
      assert.match(
        r.core.state().settingsProblems[0]!,
        /settings\.json holds \[\] \(a list\) where the keeper keeps a JSON object: fix it or delete the file/,
      );
      const saved = await r.core.saveSettings({ intervalSeconds: 30 });
      assert.equal(saved.ok, false);
      assert.match(!saved.ok ? saved.errors.gateway! : '', /^Not saved: .*settings\.json holds \[\]/);
      assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), '[]');
    },
  );
});
