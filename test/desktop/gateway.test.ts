/**
 * The desktop core running IBKR's real gateway (a temporary copy on a free port), in real time:
 * the settings "Run the gateway with the app" and "Leave it running when I quit", the process
 * facts in the window's state, Start / Stop / Restart, and quit. Every process is ended by its
 * group after the test, whatever happened.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DesktopCore } from '../../main/desktop/core.ts';
import type { GatewayFacts } from '../../main/gateway/supervisor.ts';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { groupAlive } from '../../main/gateway/process.ts';
import { DEFAULT_SETTINGS, SettingsFile, type Settings } from '../../main/session/settings.ts';
import { realClock, realScheduler } from '../../main/session/time.ts';
import { tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';

function desktop(
  t: TestContext,
  configDir: string,
  settings: Partial<Settings>,
  note: (pid: number | undefined) => void,
): DesktopCore {
  SettingsFile.open(configDir).write({ ...DEFAULT_SETTINGS, launchAtLogin: false, ...settings });
  const core = new DesktopCore({
    configDir,
    settings: SettingsFile.open(configDir),
    clock: realClock,
    scheduler: realScheduler,
    timeoutMs: 1_000,
    notifier: { show: async () => undefined },
    openExternal: async () => undefined,
    applyLaunchAtLogin: () => undefined,
  });
  core.on('state', (s) => s.gateway?.owned && note(s.gateway.pid));
  t.after(() => core.stop());
  return core;
}

async function until(what: string, ok: () => boolean, core?: DesktopCore): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (ok()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} never happened: ${JSON.stringify(core?.state().status)}`);
}

/** The gateway's facts once they are in one of `states`. */
async function gatewayIn(core: DesktopCore, ...states: string[]): Promise<GatewayFacts> {
  for (let i = 0; i < 600; i += 1) {
    const g = core.state().gateway;
    if (g && states.includes(g.state)) return g;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the gateway never was ${states.join(' or ')}: ${JSON.stringify(core.state().gateway)}`);
}

describe('the desktop app runs the gateway', { timeout: 300_000 }, () => {
  test('run with the app: its facts in the window state; Restart, Stop, Start; quit stops it', async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const dir = copyGateway(t, port);
    const core = desktop(
      t,
      tempDir(t),
      { gateway: `https://localhost:${port}`, gatewayDir: dir, runGateway: true },
      note,
    );
    assert.equal(core.state().gateway?.state, 'stopped', 'known before it starts');
    core.start();
    const running = await gatewayIn(core, 'running');
    assert.equal(running.build, 'a27ed42');
    assert.equal(running.url, `https://localhost:${port}`);
    assert.ok(running.pid !== undefined && groupAlive(running.pid));

    // The gateway's log says its login failed: the window's reason says so (the state the session's),
    // until the log says a login succeeded.
    await until('a first state', () => core.state().status.state !== 'starting', core);
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    appendFileSync(gatewayLogFile(dir, Date.now()), 'WARN authentication to cp failed, retry 3\n');
    const said = /The gateway's log says "authentication to cp failed": it could not log in to IBKR and tries again/;
    await until('the reason', () => said.test(core.state().status.reason), core);
    assert.equal(core.state().status.state, 'gateway-down', 'IBKR cannot be reached here: the requests hang');
    appendFileSync(gatewayLogFile(dir, Date.now()), 'INFO Client login succeeds\n');
    await until('the reason without it', () => !said.test(core.state().status.reason), core);

    const restarted = await core.gatewayAction('restart');
    assert.equal(restarted.ok, true, restarted.message);
    const again = core.state().gateway!;
    assert.notEqual(again.pid, running.pid);
    assert.ok(!groupAlive(running.pid));

    assert.deepEqual(await core.gatewayAction('stop'), { ok: true, message: 'Gateway stopped.' });
    assert.equal(core.state().gateway?.state, 'stopped');
    assert.ok(!groupAlive(again.pid!));
    const started = await core.gatewayAction('start');
    assert.equal(started.ok, true, started.message);
    const last = core.state().gateway!;
    await core.stop();
    assert.ok(!groupAlive(last.pid!), 'quit stops the gateway the app started');
  });

  test(
    '"Leave it running when I quit": the next app finds ' + 'it; a bad setting is refused by name; off: no gateway',
    async (t) => {
      const note = reaper(t);
      const port = await freePort();
      const dir = copyGateway(t, port);
      const configDir = tempDir(t);
      const first = desktop(
        t,
        configDir,
        { gateway: `https://localhost:${port}`, gatewayDir: dir, runGateway: true, leaveGatewayRunning: true },
        note,
      );
      first.start();
      const running = await gatewayIn(first, 'running');
      await first.stop();
      assert.ok(groupAlive(running.pid!), 'left running');

      const next = desktop(
        t,
        configDir,
        { gateway: `https://localhost:${port}`, gatewayDir: dir, runGateway: true },
        note,
      );
      next.start();
      const found = await gatewayIn(next, 'attached');
      assert.equal(found.pid, running.pid);
      assert.equal(found.owned, true);
      const bad = await next.saveSettings({ runGateway: 'yes' });
      assert.deepEqual(bad, { ok: false, errors: { runGateway: '"Run the gateway with the app" is on or off.' } });
      const off = await next.saveSettings({ runGateway: false });
      assert.equal(off.ok, true);
      assert.equal(next.state().gateway, null, 'turned off: the app runs no gateway');
      assert.ok(!groupAlive(running.pid!), 'and the one it ran is stopped');
    },
  );
});
