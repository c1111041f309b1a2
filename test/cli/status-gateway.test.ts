/**
 * The gateway's process facts beside the session (`gatewayProcess`): in `status --json` from the
 * record of a gateway `gateway start` left running, from a `watch --run-gateway` that supervises it
 * (its restarts too), and in that watch's `/status`; with IBKR's real gateway on a free port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { groupAlive } from '../../main/gateway/process.ts';
import { ROOT, runCli, startSim, tempDir } from '../helpers.ts';
import { copyGateway, freePort, reaper } from '../real-gateway.ts';

const json = (stdout: string): any => JSON.parse(stdout.trim().split('\n').at(-1)!);

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 900): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} never happened`);
}

describe('gatewayProcess: the gateway process facts beside the session', { timeout: 300_000 }, () => {
  test('status --json: null without a gateway; the one gateway start left running; then ended', async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const dir = copyGateway(t, port);
    const config = tempDir(t);
    const base = ['--config-dir', config, '--timeout', '2', '--json'];

    const sim = await startSim(t);
    const none = await runCli(['status', '--gateway', sim.url, ...base]);
    assert.equal(json(none.stdout).gatewayProcess, null, none.stderr);

    const started = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config, '--json'], {
      timeoutMs: 120_000,
    });
    const facts = json(started.stdout);
    note(facts.pid);
    assert.equal(started.code, 0, started.stderr);

    const status = await runCli(['status', '--gateway', `https://localhost:${port}`, ...base]);
    const body = json(status.stdout);
    assert.equal(typeof body.gateway, 'string', 'the origin string keeps its name');
    assert.deepEqual(body.gatewayProcess, {
      state: 'running',
      reason: `the gateway ibkr-keeper started listens on port ${port}`,
      dir,
      url: `https://localhost:${port}`,
      port,
      owned: true,
      pid: facts.pid,
      startedAt: facts.startedAt,
      restarts: 0,
      javaVersion: facts.javaVersion,
      build: 'a27ed42',
      buildDate: facts.buildDate,
      consoleLog: path.join(config, 'gateway', `console-${port}.log`),
      gatewayLog: facts.gatewayLog,
      lastExit: null,
      supervisedBy: null,
      alive: true,
      listening: true,
    });
    assert.match(body.gatewayProcess.javaVersion, /^\d+/);

    process.kill(-facts.pid, 'SIGKILL');
    await until('the gateway ended', async () => (groupAlive(facts.pid) ? undefined : true));
    const ended = json((await runCli(['status', '--gateway', `https://localhost:${port}`, ...base])).stdout);
    assert.deepEqual((({ state, pid, alive, listening }) => ({ state, pid, alive, listening }))(ended.gatewayProcess), {
      state: 'stopped',
      pid: facts.pid,
      alive: false,
      listening: false,
    });
    assert.match(ended.gatewayProcess.reason, /has ended; no keeper restarts it$/);
  });

  test('watch --run-gateway: /status and status --json show its pid, build and restarts', async (t) => {
    const note = reaper(t);
    const port = await freePort();
    const dir = copyGateway(t, port);
    const config = tempDir(t);
    note.pidFileIn(config);
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/ibkr-keeper.js'),
      ...['watch', '--run-gateway', '--gateway-dir', dir, '--config-dir', config],
      ...['--health-port', '0', '--timeout', '1', '--json'],
    ]);
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const health = await until(
      'the health server',
      async () => /Health: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1],
    );
    const statusOf = async (): Promise<any> => {
      const response = await request(`${health}/status`);
      return response.body.json();
    };
    const oneShot = async (): Promise<any> =>
      json(
        (await runCli(['status', '--gateway', `https://localhost:${port}`, '--config-dir', config, '--json'])).stdout,
      ).gatewayProcess;

    const first = await until('the gateway running', async () => {
      const g = (await statusOf()).gatewayProcess;
      return g?.state === 'running' ? g : undefined;
    });
    note(first.pid);
    assert.equal(typeof (await statusOf()).gateway, 'string', 'the origin string keeps its name');
    assert.deepEqual(
      (({ restarts, build, alive, listening, supervisedBy }) => ({ restarts, build, alive, listening, supervisedBy }))(
        first,
      ),
      {
        restarts: 0,
        build: 'a27ed42',
        alive: true,
        listening: true,
        supervisedBy: { program: 'watch', pid: child.pid },
      },
    );
    assert.match(first.startedAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(first.javaVersion, /^\d+/);
    assert.equal(first.consoleLog, path.join(config, 'gateway', `console-${port}.log`));
    const other = await oneShot();
    assert.deepEqual((({ state, pid, restarts, supervisedBy }) => ({ state, pid, restarts, supervisedBy }))(other), {
      state: 'running',
      pid: first.pid,
      restarts: 0,
      supervisedBy: { program: 'watch', pid: child.pid },
    });

    // It crashes: watch restarts it after 5 s; both show the new pid and one restart.
    process.kill(-first.pid, 'SIGKILL');
    const second = await until(
      'the restart',
      async () => {
        const g = (await statusOf()).gatewayProcess;
        return g?.state === 'running' && g.pid !== first.pid ? g : undefined;
      },
      1_500,
    );
    note(second.pid);
    assert.equal(second.restarts, 1);
    assert.equal(second.lastExit.signal, 'SIGKILL');
    const after = await oneShot();
    assert.deepEqual([after.pid, after.restarts, after.alive], [second.pid, 1, true]);
    // gateway status says the same of the folder's gateway: who restarts it, how often, its last exit.
    const gatewayStatus = await runCli(['gateway', 'status', '--dir', dir, '--config-dir', config, '--json']);
    const g = json(gatewayStatus.stdout);
    assert.deepEqual(
      [g.pid, g.restarts, g.supervisedBy, g.lastExit?.signal],
      [second.pid, 1, after.supervisedBy, 'SIGKILL'],
    );
    const said = await runCli(['gateway', 'status', '--dir', dir, '--config-dir', config]);
    assert.match(said.stdout, /, 1 restart by watch \(pid \d+\), build /);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!groupAlive(second.pid), 'watch stopped it');
    assert.equal(await oneShot(), null, 'nothing runs: nothing shown');
  });
});
