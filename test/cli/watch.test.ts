/**
 * `ibkr-keeper watch` end to end, as a spawned process in real time against the simulator:
 * through the faults, with its JSON lines, health endpoints, history, and a clean stop.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test, type TestContext } from 'node:test';
import { request } from 'undici';
import { ROOT, raw, runCli, startSim, tempDir } from '../helpers.ts';

interface Watch {
  child: ChildProcessWithoutNullStreams;
  lines: any[];
  stderr: () => string;
  /** Resolves with the first line (after those already seen) whose state is `state`. */
  next(state: string, timeoutMs?: number): Promise<any>;
  seen: number;
}

function watch(t: TestContext, args: string[]): Watch {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/ibkr-keeper.js'), 'watch', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const w: Watch = {
    child,
    lines: [],
    seen: 0,
    stderr: () => stderr,
    next: (state, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = (): void => {
          while (w.seen < w.lines.length) {
            const line = w.lines[w.seen++];
            if (line.state === state) return resolve(line);
          }
          if (Date.now() > deadline)
            return reject(
              new Error(
                `no "${state}" line within ${timeoutMs} ms; ` +
                  `lines: ${JSON.stringify(w.lines.map((l) => l.state))}; stderr: ${stderr}`,
              ),
            );
          setTimeout(poll, 50);
        };
        poll();
      }),
  };
  createInterface({ input: child.stdout }).on('line', (line) => w.lines.push(JSON.parse(line)));
  return w;
}

async function get(url: string, host?: string, method = 'GET'): Promise<{ status: number; body: any }> {
  const response = await request(url, { method: method as 'GET', headers: host ? { host } : {} });
  return { status: response.statusCode, body: await response.body.json() };
}

/** Resident memory of a process in MB, from /proc. */
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

describe('watch', () => {
  test('10,000 connections to the health server: the keeper goes on and its memory stays bounded', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const w = watch(t, ['--json', '--interval', '1', '--gateway', sim.url, '--config-dir', dir, '--health-port', '0']);
    await w.next('ready');
    const health = /Health: (http:\/\/127\.0\.0\.1:(\d+))/.exec(w.stderr())!;
    const port = Number(health[2]);
    const { connect } = await import('node:net');
    const tickles = (): number => sim.counts()['/v1/api/tickle'] ?? 0;
    const before = tickles();
    let peak = 0;
    let peakFds = 0;
    for (let wave = 0; wave < 5; wave += 1) {
      // 2,000 idle connections held at once, then dropped: 10,000 in all.
      const sockets = await Promise.all(
        Array.from(
          { length: 2_000 },
          () =>
            new Promise<import('node:net').Socket>((resolve) => {
              const socket = connect(port, '127.0.0.1');
              socket.once('connect', () => resolve(socket));
              socket.once('error', () => resolve(socket));
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      peak = Math.max(peak, rssMb(w.child.pid!));
      peakFds = Math.max(peakFds, readdirSync(`/proc/${w.child.pid}/fd`).length);
      for (const socket of sockets) socket.destroy();
    }
    assert.equal(w.child.exitCode, null, `watch is still running; stderr: ${w.stderr()}`);
    assert.ok(peak < 150, `peak RSS ${peak} MB`);
    assert.ok(peakFds < 200, `${peakFds} open file descriptors: the flood is not held`);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok(tickles() > before, 'the keeper went on tickling');
    assert.equal((await get(`${health[1]}/livez`)).status, 200);
    assert.equal(sim.limiter.violations, 0);
  });

  test(
    'a damaged state file is the state keeper-error naming the file: no crash, /livez fails after 3 ' +
      'intervals, back when fixed',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      const { writeFileSync, rmSync } = await import('node:fs');
      writeFileSync(path.join(dir, 'recovery.json'), '{ damaged');
      const w = watch(t, [
        '--json',
        '--interval',
        '1',
        '--gateway',
        sim.url,
        '--config-dir',
        dir,
        '--health-port',
        '0',
      ]);
      const fault = await w.next('keeper-error');
      assert.match(fault.reason, /recovery\.json/);
      const health = /Health: (http:\/\/127\.0\.0\.1:\d+)/.exec(w.stderr())![1]!;
      assert.equal((await get(`${health}/status`)).body.state, 'keeper-error');
      const deadline = Date.now() + 15_000;
      while ((await get(`${health}/livez`)).status === 200 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      assert.equal((await get(`${health}/livez`)).status, 503, 'no progress for 3 intervals');
      assert.equal(w.child.exitCode, null, 'still running');
      rmSync(path.join(dir, 'recovery.json'));
      await w.next('ready');
      assert.equal((await get(`${health}/livez`)).status, 200);
      w.child.kill('SIGTERM');
      const [code] = await once(w.child, 'exit');
      assert.equal(code, 0);
      assert.doesNotMatch(w.stderr(), /at .*\.cjs:\d+/, 'no stack trace');
    },
  );

  test('walks through the faults with the right states, serves health, keeps history, stops with 0', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
    const dir = tempDir(t);
    const w = watch(t, ['--json', '--interval', '2', '--gateway', sim.url, '--config-dir', dir, '--health-port', '0']);

    const first = await w.next('ready');
    assert.equal(first.previous, 'starting');
    assert.equal(first.gateway, sim.url);
    assert.ok(!Number.isNaN(Date.parse(first.time)));
    assert.match(first.reason, /as simuser1 \(paper\)/);
    assert.equal(typeof first.facts, 'object');

    const health = /Health: (http:\/\/127\.0\.0\.1:\d+)/.exec(w.stderr())![1]!;
    assert.deepEqual((await get(`${health}/livez`)).status, 200);
    assert.deepEqual(await get(`${health}/readyz`), {
      status: 200,
      body: { ready: true, state: 'ready', reason: first.reason },
    });
    const status = await get(`${health}/status`);
    assert.equal(status.body.state, 'ready');
    assert.ok(!JSON.stringify(status.body).includes(sim.model.session), 'the session id is redacted');
    assert.equal((await get(`${health}/status`, 'evil.example')).status, 403);
    assert.equal((await get(`${health}/readyz`, undefined, 'POST')).status, 405);

    await sim.apply({ type: 'drop' });
    await w.next('not-authenticated');
    await w.next('reauthenticating');
    await w.next('ready');

    await sim.apply({ type: 'fault', fault: 'server-error', path: '/tickle' });
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(w.lines.length, w.seen, 'a transient failure changes nothing');

    const seq = sim.requests().at(-1)!.seq;
    await sim.apply({ type: 'compete', kicked: true });
    await w.next('competing');
    assert.equal((await get(`${health}/readyz`)).status, 503);
    await new Promise((r) => setTimeout(r, 5_000));
    assert.deepEqual(
      sim.requests(seq).filter((r) => /reauthenticate|ssodh|logout/.test(r.path)),
      [],
      'never a takeover, reauthentication or logout by itself',
    );
    await sim.apply({ type: 'login' });
    await w.next('ready');

    await sim.apply({ type: 'expire-sso' });
    await w.next('login-required');
    await sim.apply({ type: 'login' });
    await w.next('ready');

    await sim.apply({ type: 'restart', duration: '3s' });
    await w.next('gateway-down');
    await w.next('ready', 40_000);

    await sim.apply({ type: 'rotate-certificate' });
    const refused = await w.next('untrusted-certificate');
    assert.equal(refused.facts.presentedFingerprint, sim.fingerprint256);
    const accept = await runCli(['trust', 'accept', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(accept.code, 0);
    await w.next('ready', 20_000);

    await raw(sim, 'POST', '/v1/api/tickle');
    await raw(sim, 'POST', '/v1/api/tickle'); // another program breaks the limit
    await w.next('rate-limited');
    const quiet = sim.requests().at(-1)!.seq;
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(sim.requests(quiet).length, 0, 'nothing sent during the penalty');

    const beforeStop = sim.requests().length;
    w.child.kill('SIGINT');
    const [code] = await once(w.child, 'exit');
    assert.equal(code, 0);
    assert.equal(sim.requests().length, beforeStop, 'stopping sends nothing: no logout');
    assert.equal(sim.limiter.violations, 1, "only the other program's");
    assert.equal(sim.maxInFlight, 1);

    const history = await runCli(['history', '--json', '--config-dir', dir]);
    const recorded = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).state);
    assert.deepEqual(
      recorded,
      w.lines.map((l) => l.state),
    );
    const human = await runCli(['history', '--since', '1h', '--config-dir', dir]);
    assert.match(human.stdout, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}ready: /m);
  });

  test(
    'without --json: one readable line per change; ' + 'SIGUSR1 is ignored; SIGTERM and SIGHUP end it with 0',
    async (t) => {
      const sim = await startSim(t);
      const child = spawn(process.execPath, [
        path.join(ROOT, 'bin/ibkr-keeper.js'),
        'watch',
        '--interval',
        '1',
        '--gateway',
        sim.url,
        '--config-dir',
        tempDir(t),
      ]);
      t.after(() => child.kill('SIGKILL'));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      assert.match(
        line.toString(),
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}ready: Authenticated and connected to IBKR as simuser1 \(paper\)\./,
      );
      if (process.platform === 'linux') {
        // It restarted itself with the options that keep it small, as the same process (the pid a
        // service manager watches), and said nothing about them.
        const args = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        assert.deepEqual(args.slice(1, 6), [
          '--no-turbofan',
          '--no-maglev',
          '--no-sparkplug',
          '--max-semi-space-size=1',
          '--disable-sigusr1',
        ]);
        assert.equal(args[6], path.join(ROOT, 'bin/ibkr-keeper.js'));
      }
      child.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(child.exitCode, null, 'SIGUSR1 neither ends it...');
      assert.doesNotMatch(stderr, /Debugger listening/, '...nor opens a debugger');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
      assert.doesNotMatch(stderr, /warning/i);
      const hup = spawn(process.execPath, [
        path.join(ROOT, 'bin/ibkr-keeper.js'),
        'watch',
        '--interval',
        '1',
        '--gateway',
        sim.url,
        '--config-dir',
        tempDir(t),
      ]);
      t.after(() => hup.kill('SIGKILL'));
      await once(hup.stdout, 'data');
      hup.kill('SIGHUP');
      assert.deepEqual(await once(hup, 'exit'), [0, null]);
    },
  );

  test('history: each line names its gateway once the config folder keeps more than one', async (t) => {
    const dir = tempDir(t);
    const paper = await startSim(t);
    const first = watch(t, ['--json', '--interval', '1', '--gateway', paper.url, '--config-dir', dir]);
    await first.next('ready');
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    const one = await runCli(['history', '--config-dir', dir]);
    assert.match(one.stdout, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}ready: /, 'one gateway: no need to name it');

    const live = await startSim(t);
    const second = watch(t, ['--json', '--interval', '1', '--gateway', live.url, '--config-dir', dir]);
    await second.next('ready');
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    const both = (await runCli(['history', '--config-dir', dir])).stdout.trim().split('\n');
    assert.equal(both.length, 2, both.join('\n'));
    assert.match(both[0]!, new RegExp(`^\\d{4}-\\d{2}-\\d{2} [\\d:]{8} {2}${paper.url} {2}ready: `));
    assert.match(both[1]!, new RegExp(`^\\d{4}-\\d{2}-\\d{2} [\\d:]{8} {2}${live.url} {2}ready: `));
    const lines = (await runCli(['history', '--json', '--config-dir', dir])).stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).gateway),
      [paper.url, live.url],
    );
  });

  test('bad flags: an interval under 1 s, a taken health port, a bad --since', async (t) => {
    const dir = tempDir(t);
    const interval = await runCli(['watch', '--interval', '0.5', '--config-dir', dir]);
    assert.equal(interval.code, 2);
    assert.match(interval.stderr, /--interval takes a number from 1 to 240.*, not "0\.5"/);
    const sim = await startSim(t);
    const taken = await runCli(['watch', '--gateway', sim.url, '--health-port', String(sim.port), '--config-dir', dir]);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /Health port \d+ is already in use: choose another with --health-port/);
    const since = await runCli(['history', '--since', 'yesterday', '--config-dir', dir]);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since takes a time back from now \(30m, 2h, 1d\) or a date/);
    const empty = await runCli(['history', '--config-dir', dir]);
    assert.match(empty.stdout, /No changes of state recorded/);
  });
});

describe('watch and the settings file', () => {
  test(
    'settings.json (as the desktop app saves it) gives ' + 'the gateway and the interval when no flag does',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      const { SettingsFile, DEFAULT_SETTINGS } = await import('../../main/session/settings.ts');
      SettingsFile.open(dir).write({ ...DEFAULT_SETTINGS, gateway: sim.url, intervalSeconds: 1 });
      const w = watch(t, ['--json', '--config-dir', dir]);
      const first = await w.next('ready');
      assert.equal(first.gateway, sim.url);
      await new Promise((r) => setTimeout(r, 3_500));
      assert.ok((sim.counts()['/v1/api/tickle'] ?? 0) >= 3, 'tickles every second, as the settings say');
      w.child.kill('SIGINT');
      await once(w.child, 'exit');
    },
  );

  test('a bad value in settings.json is named on stderr and the default used', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ gateway: sim.url, intervalSeconds: -5 }));
    const w = watch(t, ['--json', '--config-dir', dir]);
    await w.next('ready');
    assert.match(
      w.stderr(),
      /settings\.json: "intervalSeconds" -5 is not valid \(The interval must be at least 1 second\.\); using 60/,
    );
    w.child.kill('SIGINT');
    await once(w.child, 'exit');
  });
});
