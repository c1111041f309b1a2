/**
 * The desktop core's gateway folder experience, in plain Node over real sockets: a chosen folder
 * checked against a real copy of IBKR's gateway and against wrong folders; the first-run step
 * shown while nothing answers on the gateway's port and not while a gateway (the simulator)
 * answers; which log "Show gateway log" opens; the IPC handlers of both. Temporary folders only.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DesktopCore } from '../../main/desktop/core.ts';
import { checkChosenFolder, gatewayLogFor } from '../../main/desktop/gateway-folder.ts';
import { BadRequest, createHandlers } from '../../main/desktop/handlers.ts';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { DEFAULT_SETTINGS, SettingsFile, type Settings } from '../../main/session/settings.ts';
import { realClock, realScheduler } from '../../main/session/time.ts';
import { startSim, tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';

const EXPECTED = /choose the folder you unzipped clientportal\.gw\.zip into, the one with bin\/ and root\//;

interface Rig {
  core: DesktopCore;
  dir: string;
  opened: string[];
  folders: Array<string | undefined>;
}

function desktop(t: TestContext, settings: Partial<Settings>, openPathAnswer = ''): Rig {
  const dir = tempDir(t);
  SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, launchAtLogin: false, ...settings });
  const opened: string[] = [];
  const folders: Array<string | undefined> = [];
  const core = new DesktopCore({
    configDir: dir,
    settings: SettingsFile.open(dir),
    clock: realClock,
    scheduler: realScheduler,
    timeoutMs: 1_000,
    notifier: { show: async () => undefined },
    openExternal: async () => undefined,
    openPath: async (file) => {
      opened.push(file);
      return openPathAnswer;
    },
    chooseFolder: async () => folders.shift(),
    applyLaunchAtLogin: () => undefined,
  });
  t.after(() => core.stop());
  return { core, dir, opened, folders };
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a chosen gateway folder', () => {
  test("IBKR's gateway (a real copy) passes, with its port; wrong folders say what is expected", async (t) => {
    const port = await freePort();
    const gateway = copyGateway(t, port);
    assert.deepEqual(await checkChosenFolder(gateway), { ok: true, dir: gateway, port });

    const noConf = copyGateway(t, port);
    rmSync(path.join(noConf, 'root/conf.yaml'));
    const missing = await checkChosenFolder(noConf);
    assert.equal(missing.ok, false);
    assert.match(!missing.ok ? missing.message : '', /^This folder has no root\/conf\.yaml: /);
    assert.match(!missing.ok ? missing.message : '', EXPECTED);

    const empty = tempDir(t);
    const nothing = await checkChosenFolder(empty);
    assert.deepEqual(nothing, {
      ok: false,
      dir: empty,
      message:
        'This folder has no bin/run.sh (or bin\\run.bat), no root/conf.yaml, no dist/*.jar: choose the folder ' +
        'you unzipped clientportal.gw.zip into, the one with bin/ and root/.',
    });
    // One level off: its bin/ folder, or the folder it was unzipped in.
    assert.deepEqual(await checkChosenFolder(path.join(gateway, 'bin')), {
      ok: false,
      dir: path.join(gateway, 'bin'),
      message: `This is the gateway's bin/ folder: choose the folder above it, ${gateway}.`,
    });
    const unzipped = tempDir(t);
    cpSync(gateway, path.join(unzipped, 'clientportal.gw'), { recursive: true });
    assert.deepEqual(await checkChosenFolder(unzipped), {
      ok: false,
      dir: unzipped,
      message: `The gateway is in ${path.join(unzipped, 'clientportal.gw')}, inside this folder: choose that one.`,
    });
    const gone = await checkChosenFolder(path.join(empty, 'nowhere'));
    assert.match(!gone.ok ? gone.message : '', /nowhere does not exist: give the gateway's folder/);
    // The folder is right but its conf.yaml would stop the gateway: the conf's own message.
    writeFileSync(path.join(noConf, 'root/conf.yaml'), 'listenPort: 5000\nfooBar: 1\n');
    const broken = await checkChosenFolder(noConf);
    assert.match(!broken.ok ? broken.message : '', /conf\.yaml has the key "fooBar", which the gateway does not know/);
  });

  test('Choose… through IPC: checked at once, nothing saved; Save refuses a wrong folder by name', async (t) => {
    const port = await freePort();
    const gateway = copyGateway(t, port);
    const sim = await startSim(t);
    const { core, dir, folders } = desktop(t, { gateway: sim.url });
    const handlers = createHandlers(core);
    const file = path.join(dir, 'settings.json');
    const before = readFileSync(file, 'utf8');
    assert.deepEqual(await handlers['gateway:choose-folder']({ defaultPath: null }), { chosen: false }, 'cancelled');
    const wrong = tempDir(t);
    folders.push(wrong, gateway);
    const refused = await handlers['gateway:choose-folder']({ defaultPath: null });
    assert.equal(refused.chosen && refused.ok, false);
    assert.match(refused.chosen ? refused.message : '', EXPECTED);
    const chosen = await handlers['gateway:choose-folder']({ defaultPath: wrong });
    assert.ok(chosen.chosen && chosen.ok);
    assert.match(chosen.message, new RegExp(`^IBKR's gateway: its conf.yaml has it listen on port ${port}\\. `));
    assert.match(chosen.message, /The gateway address in Settings has port \d+: make the two the same\./);
    assert.match(chosen.message, /Java \S+ runs it\./);
    assert.equal(readFileSync(file, 'utf8'), before, 'nothing saved by choosing');
    await assert.rejects(handlers['gateway:choose-folder']({ defaultPath: 42 }), BadRequest);

    const saved = await core.saveSettings({ gatewayDir: wrong });
    assert.equal(saved.ok, false);
    assert.match(!saved.ok ? (saved.errors.gatewayDir ?? '') : '', EXPECTED);
    assert.equal(readFileSync(file, 'utf8'), before, 'nothing saved');
    assert.equal((await core.saveSettings({ gatewayDir: gateway })).ok, true);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).gatewayDir, gateway);
  });
});

describe('the first-run step', () => {
  test('shown while nothing listens on the gateway port; gone once a folder is set', async (t) => {
    const port = await freePort();
    const { core } = desktop(t, { gateway: `https://127.0.0.1:${port}` });
    assert.equal(core.state().gatewaySetup, null, 'not before the first check');
    core.start();
    const step = await until('the step', () => core.state().gatewaySetup ?? undefined);
    assert.deepEqual(step, { address: `https://127.0.0.1:${port}` });
    assert.equal(core.state().status.state, 'gateway-down');
    const gateway = copyGateway(t, await freePort());
    assert.equal((await core.saveSettings({ gatewayDir: gateway })).ok, true);
    assert.equal(core.state().gatewaySetup, null, 'a folder is set');
  });

  test('the folder saved with "Run the gateway with the app": the save answers before the gateway is up', {
    timeout: 150_000,
  }, async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const { core } = desktop(t, { gateway: `https://localhost:${port}` });
    core.start();
    await until('the step', () => core.state().gatewaySetup ?? undefined);
    const saved = await core.saveSettings({ gatewayDir: copyGateway(t, port), runGateway: true });
    assert.equal(saved.ok, true);
    assert.ok(['stopped', 'starting'].includes(core.state().gateway!.state), 'answered while it starts');
    assert.equal(core.state().gatewaySetup, null);
    const running = await until(
      'the gateway running',
      () => (core.state().gateway?.state === 'running' ? core.state().gateway! : undefined),
      120_000,
    );
    note(running.pid);
    await core.stop();
  });

  test('"I run the gateway myself" is remembered in the settings, schema-checked', async (t) => {
    const port = await freePort();
    const { core, dir } = desktop(t, { gateway: `https://localhost:${port}` });
    core.start();
    await until('the step', () => core.state().gatewaySetup ?? undefined);
    assert.deepEqual(await core.saveSettings({ gatewaySetupDismissed: 'no' }), {
      ok: false,
      errors: { gatewaySetupDismissed: '"I run the gateway myself" is on or off.' },
    });
    assert.equal((await core.saveSettings({ gatewaySetupDismissed: true })).ok, true);
    assert.equal(core.state().gatewaySetup, null);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')).gatewaySetupDismissed, true);
    await core.act('check');
    assert.equal(core.state().gatewaySetup, null, 'still dismissed after another check');
    assert.equal(SettingsFile.open(dir).read().settings.gatewaySetupDismissed, true, 'read back');
  });

  test('not shown while a gateway answers: ready, or down but answering (Access Denied)', async (t) => {
    const sim = await startSim(t);
    const { core } = desktop(t, { gateway: sim.url });
    core.start();
    await until('ready', () => (core.state().status.state === 'ready' ? true : undefined));
    assert.equal(core.state().gatewaySetup, null);
    await sim.apply({ type: 'access-denied' });
    await core.act('check');
    await until('gateway-down', () => (core.state().status.state === 'gateway-down' ? true : undefined));
    // The port completes a TLS handshake: a gateway is there, so no folder is asked for.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(core.state().gatewaySetup, null);
  });
});

describe('Show gateway log', () => {
  test('which log: the console while the app runs the gateway, else today’s gw log; none yet says why', (t) => {
    const dir = tempDir(t);
    const now = Date.now();
    const today = gatewayLogFile(dir, now);
    const consoleLog = path.join(tempDir(t), 'gateway/console.log');
    assert.deepEqual(gatewayLogFor({ gatewayDir: null, consoleLog: undefined, now }), {
      shown: false,
      file: null,
      why: null,
    });
    assert.deepEqual(gatewayLogFor({ gatewayDir: dir, consoleLog: undefined, now }), {
      shown: true,
      file: null,
      why: `No log yet today: the gateway writes ${today} once it runs.`,
    });
    assert.deepEqual(gatewayLogFor({ gatewayDir: dir, consoleLog, now }), {
      shown: true,
      file: null,
      why: `No log yet: the gateway's console goes to ${consoleLog} once the app starts it.`,
    });
    mkdirSync(path.dirname(today), { recursive: true });
    writeFileSync(today, 'INFO  Client login succeeds\n');
    assert.equal(gatewayLogFor({ gatewayDir: dir, consoleLog: undefined, now }).file, today);
    assert.equal(gatewayLogFor({ gatewayDir: dir, consoleLog, now }).file, today, 'no console yet: its own log');
    mkdirSync(path.dirname(consoleLog), { recursive: true });
    writeFileSync(consoleLog, 'version: a27ed42\n');
    assert.equal(gatewayLogFor({ gatewayDir: dir, consoleLog, now }).file, consoleLog);
  });

  test("opens today's log through openPath; a failure to open it is the action's message", async (t) => {
    const gateway = copyGateway(t, await freePort());
    const sim = await startSim(t);
    const none = desktop(t, { gateway: sim.url });
    assert.deepEqual(none.core.state().gatewayLog, { shown: false, file: null, why: null });
    assert.equal((await none.core.showGatewayLog()).ok, false);

    const rig = desktop(t, { gateway: sim.url, gatewayDir: gateway });
    const handlers = createHandlers(rig.core);
    const today = gatewayLogFile(gateway, Date.now());
    const early = await handlers['gateway:show-log'](null);
    assert.deepEqual(early, { ok: false, message: `No log yet today: the gateway writes ${today} once it runs.` });
    mkdirSync(path.dirname(today), { recursive: true });
    writeFileSync(today, '');
    assert.deepEqual(rig.core.state().gatewayLog, { shown: true, file: today, why: null });
    assert.deepEqual(await handlers['gateway:show-log'](null), { ok: true, message: `Opened ${today}.` });
    assert.deepEqual(rig.opened, [today]);

    const failing = desktop(t, { gateway: sim.url, gatewayDir: gateway }, 'No application is set to open .log files');
    assert.deepEqual(await failing.core.showGatewayLog(), {
      ok: false,
      message: `Could not open ${today}: No application is set to open .log files`,
    });
  });
});
