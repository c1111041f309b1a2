/**
 * `ibkr-keeper gateway start|stop|restart|status|logs`, `watch --run-gateway` and `login`, end to
 * end as spawned commands with IBKR's real gateway (a temporary copy on a free port). Every gateway
 * a command started is ended by its process group after the test, whatever happened.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { groupAlive } from '../../main/gateway/process.ts';
import { ROOT, runCli, startSim, tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';

const json = (stdout: string): any => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('the gateway from the command line, with the real gateway', { timeout: 300_000 }, () => {
  test(
    'gateway start, status, logs, start again (kept), ' + 'restart, stop: exit codes, --json facts, no process left',
    async (t) => {
      const note = reaper(t);
      const port = await freePort();
      const dir = copyGateway(t, port);
      const config = tempDir(t);
      const base = ['--config-dir', config];

      const started = await runCli(['gateway', 'start', '--dir', dir, ...base, '--json'], { timeoutMs: 120_000 });
      const facts = json(started.stdout);
      note(facts.pid);
      assert.equal(started.code, 0, started.stderr);
      assert.equal(facts.state, 'running');
      assert.equal(facts.url, `https://localhost:${port}`);
      assert.equal(facts.build, 'a27ed42');
      assert.ok(groupAlive(facts.pid), 'it runs on after the command ended');

      const status = await runCli(['gateway', 'status', ...base, '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual(
        (({ state, pid, owned, build, dir: d }) => ({ state, pid, owned, build, dir: d }))(json(status.stdout)),
        { state: 'running', pid: facts.pid, owned: true, build: 'a27ed42', dir },
        'the folder comes from the running gateway when --dir is not given',
      );
      const plain = await runCli(['gateway', 'status', ...base]);
      assert.match(
        plain.stdout,
        new RegExp(
          `^running: the gateway ibkr-keeper ` +
            `started listens on port ${port} \\(pid ${facts.pid}, since .*, build a27ed42, Java .*\\)\n`,
        ),
      );

      const logs = await runCli(['gateway', 'logs', ...base, '--lines', '5']);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, new RegExp(`Open https://localhost:${port} to login`));

      const again = await runCli(['gateway', 'start', '--dir', dir, ...base]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stdout,
        new RegExp(`^attached: the gateway this keeper started earlier \\(pid ${facts.pid}, `),
        'never a second one',
      );

      const restarted = await runCli(['gateway', 'restart', ...base, '--json'], { timeoutMs: 120_000 });
      const second = json(restarted.stdout);
      note(second.pid);
      assert.equal(restarted.code, 0, restarted.stderr);
      assert.match(restarted.stderr, new RegExp(`Stopped the gateway \\(pid ${facts.pid}, `));
      assert.notEqual(second.pid, facts.pid);
      assert.ok(!groupAlive(facts.pid));

      const stopped = await runCli(['gateway', 'stop', ...base]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, new RegExp(`^Stopped the gateway \\(pid ${second.pid}, `));
      assert.ok(!groupAlive(second.pid), 'no process of its group is left');
      const after = await runCli(['gateway', 'status', '--dir', dir, ...base, '--json']);
      assert.equal(after.code, 6);
      assert.equal(json(after.stdout).state, 'stopped');
      assert.equal(
        (await runCli(['gateway', 'stop', ...base])).stdout,
        'No gateway started by ibkr-keeper is running.\n',
      );
    },
  );

  const TWO = 'two gateways from one config folder (other folders, other ports): each started, shown and stopped alone';
  test(TWO, async (t) => {
    const note = reaper(t);
    const config = tempDir(t);
    note.pidFileIn(config);
    const base = ['--config-dir', config];
    const [portA, portB] = [await freePort(), await freePort()];
    const [dirA, dirB] = [copyGateway(t, portA), copyGateway(t, portB)];
    const startedA = await runCli(['gateway', 'start', '--dir', dirA, ...base, '--json'], { timeoutMs: 120_000 });
    const a = json(startedA.stdout);
    note(a.pid);
    assert.equal(startedA.code, 0, startedA.stderr);
    const startedB = await runCli(['gateway', 'start', '--dir', dirB, ...base, '--json'], { timeoutMs: 120_000 });
    const b = json(startedB.stdout);
    note(b.pid);
    assert.equal(startedB.code, 0, startedB.stderr);
    assert.equal(b.state, 'running', startedB.stderr);
    assert.doesNotMatch(startedB.stderr, /stopped it/);
    assert.ok(groupAlive(a.pid), 'the second start leaves the first gateway alone');
    assert.ok(groupAlive(b.pid));

    for (const [dir, pid, port] of [
      [dirA, a.pid, portA],
      [dirB, b.pid, portB],
    ] as const) {
      const status = await runCli(['gateway', 'status', '--dir', dir, ...base, '--json']);
      assert.equal(status.code, 0, status.stderr);
      const facts = json(status.stdout);
      assert.deepEqual([facts.state, facts.pid, facts.port], ['running', pid, port]);
    }
    const which = await runCli(['gateway', 'status', ...base]);
    assert.equal(which.code, 2);
    assert.match(which.stderr, /^ibkr-keeper: 2 gateways run from this config folder \(.*\): say which with --dir/);

    const stopA = await runCli(['gateway', 'stop', '--dir', dirA, ...base]);
    assert.equal(stopA.code, 0, stopA.stderr);
    assert.match(stopA.stdout, new RegExp(`^Stopped the gateway \\(pid ${a.pid}, `));
    assert.ok(!groupAlive(a.pid));
    assert.ok(groupAlive(b.pid), 'stopping one leaves the other running');
    const stopB = await runCli(['gateway', 'stop', ...base]);
    assert.equal(stopB.code, 0, stopB.stderr);
    assert.match(stopB.stdout, new RegExp(`^Stopped the gateway \\(pid ${b.pid}, `), 'the one left running');
    assert.ok(!groupAlive(b.pid));
  });

  test('gateway start: no Java, no folder, a broken conf.yaml: one clear line, exit 2, nothing started', async (t) => {
    const dir = copyGateway(t, await freePort());
    const config = tempDir(t);
    const noJava = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config], {
      env: { PATH: '/nonexistent', JAVA_HOME: '' },
    });
    assert.equal(noJava.code, 2);
    assert.match(noJava.stderr, /^ibkr-keeper: No Java found: .* Install Java 8u192 or later/);
    const noFolder = await runCli(['gateway', 'start', '--config-dir', config]);
    assert.equal(noFolder.code, 2);
    assert.match(noFolder.stderr, /^ibkr-keeper: Give the gateway's folder: --dir GATEWAY_DIR/);
    writeFileSync(path.join(dir, 'root/conf.yaml'), 'listenPort: [\n');
    const broken = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config, '--json']);
    assert.equal(broken.code, 2);
    assert.match(json(broken.stdout).error, /conf\.yaml is not valid YAML \(line \d+, column \d+\)/);
    // The one-shot commands given that folder: the conf error, exit 2, before anything is sent.
    const sim = await startSim(t);
    for (const command of ['status', 'tickle']) {
      const status = await runCli([command, '--gateway', sim.url, '--gateway-dir', dir, '--config-dir', config]);
      assert.equal(status.code, 2, status.stdout + status.stderr);
      assert.match(status.stderr, /^ibkr-keeper: .*root\/conf\.yaml is not valid YAML \(line \d+, column \d+\)/);
    }
    assert.equal(sim.requests().length, 0);
    // doctor says it as a line, and what to do, in words that do not stutter.
    const doctor = await runCli(['doctor', '--gateway-dir', dir, '--config-dir', config, '--timeout', '1']);
    assert.match(doctor.stdout, /\n✗ conf\.yaml: .*not valid YAML.* Fix: Correct that line/);
    assert.doesNotMatch(doctor.stdout, /Fix: Fix/);
  });

  test('gateway start beside a gateway it did not start: attached, said once, and no console of its own', async (t) => {
    const sim = await startSim(t);
    const dir = copyGateway(t, Number(new URL(sim.url).port));
    const config = tempDir(t);
    const start = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config]);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /^attached: a gateway already listens on port \d+: attached to it/);
    assert.doesNotMatch(start.stderr, /attached to it/, 'said once, on stdout');
    assert.doesNotMatch(start.stdout, /console /, 'its console is wherever it was started');
    assert.match(start.stdout, /\n {2}log in {6}https:\/\/localhost:\d+ /);
  });

  const RUN_GATEWAY =
    'watch --run-gateway: /livez 200 while it starts, /readyz 503 until ready; the log: a failed login is the ' +
    'reason until a login, a login checks at once; gateway stop is not a crash, SIGTERM ends it';
  test(RUN_GATEWAY, async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const dir = copyGateway(t, port);
    const config = tempDir(t);
    note.pidFileIn(config);
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/ibkr-keeper.js'),
      'watch',
      '--run-gateway',
      '--gateway-dir',
      dir,
      '--config-dir',
      config,
      '--health-port',
      '0',
      '--timeout',
      '1',
      '--json',
    ]);
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines: any[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
      for (let i = 0; i < 1_200; i += 1) {
        const m = pattern.exec(stderr);
        if (m) return m;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no ${pattern} in: ${stderr}`);
    };
    const until = async (what: string, ok: () => boolean | Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 600; i += 1) {
        if (await ok()) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${what} never happened; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`);
    };
    const get = async (url: string): Promise<{ status: number; body: any }> => {
      const response = await request(url);
      return { status: response.statusCode, body: await response.body.json() };
    };
    const health = (await waitFor(/Health: (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    // While the gateway starts (up to 2 minutes), the keeper is alive: an orchestrator must not kill it.
    const livez: number[] = [];
    while (!/Gateway running: /.test(stderr)) {
      livez.push((await get(`${health}/livez`)).status);
      assert.equal((await get(`${health}/readyz`)).status, 503);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (livez.length > 1_500) throw new Error(`the gateway never ran: ${stderr}`);
    }
    assert.ok(livez.length > 0);
    assert.deepEqual(
      livez.filter((s) => s !== 200),
      [],
      `/livez while the gateway started: ${livez.length} answers`,
    );
    const running = await waitFor(/Gateway running: the gateway listens on https:\/\/localhost:\d+ \(pid (\d+)\)/);
    const pid = Number(running[1]);
    note(pid);
    const readyz = await request(`${health}/readyz`);
    assert.equal(readyz.statusCode, 503, 'nobody logged in: not ready');
    await readyz.body.dump();
    assert.equal((await get(`${health}/livez`)).status, 200);

    // The gateway's log says it gave up its login: the reason of the state the session is in says so
    // (at once: a line of its own on stdout, /status), and what to do; the state stays the session's.
    await until('a first state', () => lines.length > 0);
    const state = lines.at(-1).state;
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    appendFileSync(
      gatewayLogFile(dir, Date.now()),
      'WARN  ibgroup.web.core.clientportal.gw.sso.Reauthenticate - Reauthentication failed 5 times, stopping\n',
    );
    const said = new RegExp(
      'The gateway\'s log says "Reauthentication failed 5 times, stopping": it gave up logging in to IBKR again; ' +
        "log in again on the gateway's login page\\.$",
    );
    await until('a line with the reason', () => said.test(lines.at(-1).reason));
    assert.equal(lines.at(-1).state, state, 'the same state, with a new reason');
    assert.equal(lines.at(-1).change, 'reason', 'a JSON reader can tell it from a change of state');
    assert.equal(lines[0].change, 'state');
    assert.equal(lines.at(-1).gateway, `https://localhost:${port}`);
    assert.match((await get(`${health}/status`)).body.reason, said);
    await waitFor(/Gateway log: the gateway's log says "Reauthentication failed 5 times, stopping"/);

    appendFileSync(gatewayLogFile(dir, Date.now()), 'INFO Client login succeeds\n');
    await waitFor(/Gateway log: "Client login succeeds": checking the session now\./);
    await until(
      'the reason without it',
      async () => !/Reauthentication failed/.test((await get(`${health}/status`)).body.reason),
    );

    // `gateway stop` from another terminal is a stop, not a crash: watch does not restart it.
    const stop = await runCli(['gateway', 'stop', '--config-dir', config]);
    assert.equal(stop.code, 0, stop.stderr);
    await waitFor(/Gateway stopped: stopped by ibkr-keeper gateway stop \(not restarted\)/);
    assert.ok(!groupAlive(pid));
    assert.doesNotMatch(stderr, /Gateway restarting/);

    // Started again from another terminal (start, then restart): watch supervises it again, each time.
    const supervised =
      /Gateway running: the gateway that ibkr-keeper gateway start or restart started .*: supervised again/g;
    const started = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config, '--json']);
    assert.equal(started.code, 0, started.stderr);
    note(json(started.stdout).pid);
    await until('supervised again', () => (stderr.match(supervised) ?? []).length === 1);
    const restarted = await runCli(['gateway', 'restart', '--dir', dir, '--config-dir', config, '--json']);
    assert.equal(restarted.code, 0, restarted.stderr);
    const newPid = json(restarted.stdout).pid as number;
    note(newPid);
    await until('supervised after the restart', () => (stderr.match(supervised) ?? []).length === 2);
    assert.match(stderr, new RegExp(`supervised again \\(pid ${newPid}\\)`));
    assert.doesNotMatch(stderr, /Gateway restarting/, 'a restart from elsewhere is not a crash');
    // It is watch's again: a kill -9 is restarted.
    process.kill(newPid, 'SIGKILL');
    await waitFor(/Gateway restarting: the gateway exited/);
    const after = await waitFor(
      /Gateway running: the gateway listens on https:\/\/localhost:\d+ \(pid (\d+), 1 restart\)/,
    );
    const third = Number(after[1]);
    note(third);
    assert.notEqual(third, newPid);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!groupAlive(third), 'watch stops the gateway it supervises when it ends');
    const stopped = await runCli(['gateway', 'stop', '--dir', dir, '--config-dir', config]);
    assert.equal(stopped.stdout, 'No gateway started by ibkr-keeper is running.\n', stopped.stderr);
  });

  test(
    'login prints the address from the folder and opens ' + 'it with the browser program; --no-open only prints',
    async (t) => {
      const port = await freePort();
      const dir = copyGateway(t, port);
      const config = tempDir(t);
      const opened = path.join(config, 'opened.txt');
      const browser = path.join(config, 'browser.sh');
      writeFileSync(browser, `#!/bin/sh\necho "$1" > "${opened}"\n`);
      chmodSync(browser, 0o755);
      const result = await runCli(['login', '--gateway-dir', dir, '--config-dir', config], {
        env: { IBKR_KEEPER_BROWSER: browser },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`^Log in to the gateway at https://localhost:${port}/\nOpened it in your browser\\.\n$`),
      );
      for (let i = 0; i < 50 && !readFileSync(opened, { flag: 'a+' }).length; i += 1)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(readFileSync(opened, 'utf8'), `https://localhost:${port}/\n`);

      const printed = await runCli(
        ['login', '--gateway', 'https://localhost:5999', '--config-dir', config, '--no-open', '--json'],
        { env: { IBKR_KEEPER_BROWSER: '/nonexistent' } },
      );
      assert.equal(printed.code, 0, printed.stderr);
      assert.deepEqual((({ url, opened: o }) => ({ url, opened: o }))(json(printed.stdout)), {
        url: 'https://localhost:5999/',
        opened: false,
      });
    },
  );
});
