/**
 * `ibkr-keeper` end to end, as spawned processes against the simulator: what a person or a script
 * sees on stdout, stderr and in the exit code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { STATE_INFO, type SessionState } from '../../main/session/states.ts';
import type { SimEventInput } from '../../main/simulator/events.ts';
import { pattern, ROOT, runCli, startSim, tempDir } from '../helpers.ts';
import { freePort } from '../real-gateway.ts';

const json = (stdout: string): any => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('usage', () => {
  test('--help lists every command and exits 0; each command has --help', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['status', 'tickle', 'validate', 'reauth', 'logout', 'trust', 'simulate', 'demo'])
      assert.match(help.stdout, new RegExp(`\\n  ${command}`));
    const status = await runCli(['status', '--help']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /--gateway <url>/);
    assert.match(status.stdout, /--config-dir <dir>/);
    assert.match(status.stdout, /--json/);
  });

  test('--help offers each command only the options it uses, each with one default that is true for it', async () => {
    const help = async (...command: string[]): Promise<string> => {
      const result = await runCli([...command, '--help']);
      assert.equal(result.code, 0, command.join(' '));
      return result.stdout.replace(/\s+/g, ' ');
    };
    const options = (text: string): string[] => [...text.matchAll(/ (--[a-z-]+)/g)].map((m) => m[1]!);
    const watch = await help('watch');
    assert.match(
      watch,
      /--interval <seconds> seconds between tickles \(1 to 240; default: the settings' intervalSeconds, else 60\) --/,
    );
    assert.match(
      watch,
      new RegExp(
        "--gateway <url> the gateway's address \\(default: \\$IBKR_KEEPER_GATEWAY, else \\(with --run-gateway\\) " +
          "the gateway folder's conf\\.yaml, else the settings' gateway",
      ),
    );
    for (const text of [watch, await help('status'), await help('doctor')])
      for (const option of text.split(/ (?=--[a-z])/))
        assert.ok((option.match(/\(default:/g) ?? []).length <= 1, `one default: ${option}`);
    assert.deepEqual(new Set(options(await help('trust', 'list'))), new Set(['--config-dir', '--json', '--help']));
    assert.deepEqual(
      new Set(options(await help('trust', 'forget'))),
      new Set(['--gateway', '--config-dir', '--json', '--help']),
    );
    assert.doesNotMatch(await help('trust', 'show'), /--gateway-dir/);
    assert.doesNotMatch(await help('login'), /--timeout/, 'login sends nothing');
    const demo = await help('demo');
    assert.doesNotMatch(demo, /every (session )?state/, 'the day shows 8 of the 11 states');
    assert.match(demo, /simulated day/);
  });

  test('a bad flag, URL or number exits 2 with a message that says what to give', async (t) => {
    const dir = tempDir(t);
    const flag = await runCli(['status', '--bogus', '--config-dir', dir]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--bogus'/);
    const url = await runCli(['status', '--gateway', 'localhost:5000', '--config-dir', dir]);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /"localhost:5000" does not use https.*e\.g\. https:\/\/localhost:5000/);
    const timeout = await runCli(['status', '--timeout', 'soon', '--config-dir', dir]);
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--timeout takes a number from 0\.5 to 120, not "soon"/);
    const command = await runCli(['statsu']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'statsu'/);
  });

  test('out-of-range numbers exit 2 naming the range; messages never echo a password or a huge input', async (t) => {
    const dir = tempDir(t);
    for (const value of ['1e9', '2147484', '1e-9', '0', '-1', 'Infinity', '']) {
      const result = await runCli(['status', '--timeout', value, '--config-dir', dir]);
      assert.equal(result.code, 2, `--timeout ${value}`);
      assert.match(result.stderr, /--timeout takes a number from 0\.5 to 120/);
    }
    for (const value of ['0', '241', '2147484', '1e9']) {
      const result = await runCli(['watch', '--interval', value, '--config-dir', dir]);
      assert.equal(result.code, 2, `--interval ${value}`);
      assert.match(
        result.stderr,
        /--interval takes a number from 1 to 240: the gateway ends a session idle for about 5 minutes/,
      );
    }
    const emptyDir = await runCli(['status', '--gateway-dir', '', '--config-dir', dir]);
    assert.equal(emptyDir.code, 2);
    assert.match(emptyDir.stderr, /--gateway-dir is empty/);
    const secret = await runCli(['status', '--gateway', 'https://me:hunter2@localhost:5000', '--config-dir', dir]);
    assert.equal(secret.code, 2);
    assert.doesNotMatch(secret.stderr, /hunter2/);
    const huge = await runCli([
      'status',
      '--gateway',
      `https://localhost:5000/${'x'.repeat(120_000)}`,
      '--config-dir',
      dir,
    ]);
    assert.equal(huge.code, 2);
    assert.ok(huge.stderr.length < 400, `${huge.stderr.length} characters`);
  });

  test('tickle --json on an answer nested 100,000 levels deep: printed, cut at a sane depth, no crash', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'fault', fault: 'deeply-nested', path: '/tickle' });
    const result = await runCli(['tickle', '--json', '--gateway', sim.url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 0, result.stderr);
    const out = json(result.stdout);
    assert.equal(out.state, 'ready');
    assert.match(JSON.stringify(out.answer.nested), /\[nested too deeply\]/);
    assert.doesNotMatch(result.stderr, /Maximum call stack/);
  });

  test('history names a file it cannot read, without a stack trace', async (t) => {
    const dir = tempDir(t);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'history.jsonl'));
    const result = await runCli(['history', '--config-dir', dir]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Could not read .*history\.jsonl \(EISDIR\)/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('a broken trust file exits 2 and names the file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'trust.json'), '{ broken');
    const result = await runCli(['status', '--gateway', 'https://127.0.0.1:9', '--config-dir', dir]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /trust\.json .*fix or delete the file/);
  });
});

describe('status', () => {
  test('ready: one line for a person, exit 0; the certificate trusted on first use is said on stderr', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const result = await runCli(['status', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^ready: Authenticated and connected to IBKR as simuser1 \(paper\)\. \(server JifZ34060/,
    );
    assert.equal(result.stdout.trim().split('\n').length, 1);
    assert.match(
      result.stderr,
      new RegExp(`Trusted the certificate of ${sim.url} on first use: SHA-256 ${sim.fingerprint256}`),
    );
    assert.ok(existsSync(path.join(dir, 'trust.json')));
  });

  const states: Array<[string, SimEventInput[], SessionState]> = [
    ['session dropped', [{ type: 'drop' }], 'not-authenticated'],
    ['competing login', [{ type: 'compete' }], 'competing'],
    ['no login', [{ type: 'expire-sso' }], 'login-required'],
    ['IP not allowed', [{ type: 'access-denied' }], 'gateway-down'],
    ['IBKR restarting', [{ type: 'restart' }], 'gateway-down'],
    ['certificate changed', [{ type: 'rotate-certificate' }], 'untrusted-certificate'],
  ];
  for (const [name, events, state] of states) {
    test(`--json after "${name}": state ${state}, exit ${STATE_INFO[state].exitCode}`, async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      assert.equal((await runCli(['status', '--gateway', sim.url, '--config-dir', dir])).code, 0);
      for (const event of events) await sim.apply(event);
      const result = await runCli(['status', '--json', '--gateway', sim.url, '--config-dir', dir]);
      const body = json(result.stdout);
      assert.equal(body.state, state, body.reason);
      assert.equal(result.code, STATE_INFO[state].exitCode);
      assert.equal(typeof body.reason, 'string');
      assert.equal(body.gateway, sim.url);
      assert.ok(!Number.isNaN(Date.parse(body.time)));
      assert.equal(typeof body.facts, 'object');
    });
  }

  test('rate-limited after another program floods the gateway, exit 7', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const { raw } = await import('../helpers.ts');
    await raw(sim, 'POST', '/v1/api/tickle');
    await raw(sim, 'POST', '/v1/api/tickle');
    const result = await runCli(['status', '--json', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(json(result.stdout).state, 'rate-limited');
    assert.equal(result.code, 7);
  });

  test('a gateway that is not running: gateway-down, exit 6', async (t) => {
    const sim = await startSim(t);
    const url = sim.url;
    await sim.stop();
    const result = await runCli(['status', '--gateway', url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 6);
    assert.match(result.stdout, /^gateway-down: The gateway is not running at .* \(connection refused\)/);
  });

  test('running status again and again never trips a rate limit', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    for (let i = 0; i < 6; i += 1)
      assert.equal((await runCli(['status', '--gateway', sim.url, '--config-dir', dir])).code, 0);
    assert.equal(sim.limiter.violations, 0);
    assert.equal(sim.counts()['/v1/api/sso/validate'], 1, '/sso/validate at most once a minute across runs');
  });

  test('IBKR_KEEPER_CONFIG_DIR chooses the config folder', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    assert.equal((await runCli(['status', '--gateway', sim.url], { env: { IBKR_KEEPER_CONFIG_DIR: dir } })).code, 0);
    assert.ok(existsSync(path.join(dir, 'trust.json')));
    assert.ok(existsSync(path.join(dir, 'pacing.json')));
  });
});

describe('tickle, validate, reauth, logout', () => {
  test('tickle --json shows the answer with the session id redacted, nowhere whole', async (t) => {
    const sim = await startSim(t);
    const result = await runCli(['tickle', '--json', '--gateway', sim.url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 0);
    const body = json(result.stdout);
    assert.equal(body.state, 'ready');
    assert.match(body.answer.session, /^[0-9a-f]{4}…[0-9a-f]{4}$/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(sim.model.session));
    assert.ok(!JSON.stringify(body).includes(sim.model.session));
  });

  test('tickle while connected but not authenticated asks the auth status and says not-authenticated', async (t) => {
    const sim = await startSim(t);
    await sim.apply({ type: 'unauthenticate' });
    const result = await runCli(['tickle', '--gateway', sim.url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 3);
    assert.match(result.stdout, /^not-authenticated: The gateway is connected to IBKR, but/);
    assert.deepEqual(
      sim.requests().map((r) => r.path),
      ['/v1/api/tickle', '/v1/api/iserver/auth/status'],
    );
  });

  test('validate: the login for a person; a second within the minute is not sent (exit 7)', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const first = await runCli(['validate', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(first.code, 0);
    assert.match(first.stdout, /^login valid for simuser1 \(paper\)/);
    const second = await runCli(['validate', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(second.code, 7);
    assert.match(second.stdout, /not sent: .*IBKR allows one a minute; try again in \d+ (min|s)/);
    assert.equal(sim.counts()['/v1/api/sso/validate'], 1);
  });

  test('reauth waits until the session is ready again', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
    await sim.apply({ type: 'drop' });
    const result = await runCli(['reauth', '--gateway', sim.url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ready: /);
    assert.equal(sim.counts()['/v1/api/iserver/reauthenticate'], 1);
  });

  test('reauth --no-wait returns at "triggered"; without a login it says to log in (exit 5)', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 30_000 } });
    await sim.apply({ type: 'drop' });
    const dir = tempDir(t);
    const noWait = await runCli(['reauth', '--no-wait', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(noWait.code, 0);
    assert.match(noWait.stdout, /^reauthenticating: /);
    await sim.apply({ type: 'expire-sso' });
    const noLogin = await runCli(['reauth', '--json', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(noLogin.code, 5);
    assert.equal(json(noLogin.stdout).state, 'login-required');
  });

  test('reauth --take-over takes a competing session over, on purpose', async (t) => {
    const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
    await sim.apply({ type: 'compete', kicked: true });
    const result = await runCli(['reauth', '--take-over', '--gateway', sim.url, '--config-dir', tempDir(t)]);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(sim.model.brokerage, 'authenticated');
    assert.equal(sim.counts()['/v1/api/iserver/auth/ssodh/init'], 1);
  });

  test('logout ends the session; status then says login-required', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const result = await runCli(['logout', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^logged out: .*open https:\/\/127\.0\.0\.1:\d+ in a browser to log in again/);
    const status = await runCli(['status', '--json', '--gateway', sim.url, '--config-dir', dir]);
    assert.equal(json(status.stdout).state, 'login-required');
  });

  test('status after a logout within the minute does not recall the login from before it', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    assert.equal(
      (await runCli(['status', '--gateway', sim.url, '--config-dir', dir])).code,
      0,
      'the login is validated and remembered',
    );
    assert.equal((await runCli(['logout', '--gateway', sim.url, '--config-dir', dir])).code, 0);
    const status = await runCli(['status', '--json', '--gateway', sim.url, '--config-dir', dir]);
    assert.notEqual(json(status.stdout).state, 'ready');
    assert.doesNotMatch(json(status.stdout).reason, /login itself is still valid/);
  });

  test(
    'reauth while another login holds the session sends ' + 'nothing and names --take-over; --take-over takes it',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 500 } });
      const dir = tempDir(t);
      await sim.apply({ type: 'compete', kicked: true });
      const result = await runCli(['reauth', '--gateway', sim.url, '--config-dir', dir]);
      assert.equal(result.code, STATE_INFO.competing.exitCode);
      assert.match(
        result.stdout,
        pattern(
          /^competing: .*Nothing was sent: reauthenticating would end that /,
          /login\. To take the session over, run ibkr-keeper reauth --take-over\./,
        ),
      );
      assert.equal(sim.counts()['/v1/api/iserver/reauthenticate'], undefined, 'not one reauthentication');
      assert.equal(sim.snapshot()['brokerage'], 'kicked', 'the other login still holds it');
      const takeOver = await runCli(['reauth', '--take-over', '--gateway', sim.url, '--config-dir', dir]);
      assert.equal(takeOver.code, 0, takeOver.stdout);
    },
  );

  test('localhost and 127.0.0.1 are one gateway: one ledger, so using both breaks no limit', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const byName = sim.url.replace('127.0.0.1', 'localhost');
    for (const gateway of [sim.url, byName, sim.url, byName]) {
      const result = await runCli(['status', '--gateway', gateway, '--config-dir', dir]);
      assert.equal(result.code, 0, `${gateway}: ${result.stdout}`);
    }
    assert.equal(sim.limiter.violations, 0);
    assert.equal(sim.counts()['/v1/api/sso/validate'], 1, 'the login asked once a minute, whatever the name');
  });
});

describe('trust', () => {
  test('shows, records on first use, refuses a change, accepts on request, forgets', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const args = ['--gateway', sim.url, '--config-dir', dir];
    const before = await runCli(['trust', ...args]);
    assert.equal(before.code, 0);
    assert.match(before.stdout, /trusted: {3}nothing yet/);
    assert.match(before.stdout, /It will be trusted on first use/);
    await runCli(['status', ...args]);
    const after = await runCli(['trust', 'show', ...args]);
    assert.match(after.stdout, new RegExp(`trusted: {3}SHA-256 ${sim.fingerprint256} \\(on first use`));
    assert.match(after.stdout, /\(the trusted one\)/);
    const old = sim.fingerprint256;
    await sim.apply({ type: 'rotate-certificate' });
    const changed = await runCli(['trust', '--json', ...args]);
    assert.equal(changed.code, 8);
    assert.deepEqual(
      [json(changed.stdout).trusted.fingerprint256, json(changed.stdout).presented],
      [old, sim.fingerprint256],
    );
    assert.equal((await runCli(['status', ...args])).code, 8);
    const accept = await runCli(['trust', 'accept', ...args]);
    assert.equal(accept.code, 0);
    assert.match(accept.stdout, new RegExp(`Now trusting SHA-256 ${sim.fingerprint256} .* \\(instead of ${old}\\)`));
    assert.equal((await runCli(['status', ...args])).code, 0);
    const list = await runCli(['trust', 'list', '--json', '--config-dir', dir]);
    assert.equal(json(list.stdout).pins[sim.url].source, 'user');
    assert.match((await runCli(['trust', 'forget', ...args])).stdout, /^Forgot the trusted certificate/);
    assert.match((await runCli(['trust', 'list', '--config-dir', dir])).stdout, /No gateway is trusted yet/);
  });

  test('accept --fingerprint checks the form and pins it for a gateway not seen yet', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const args = ['--gateway', sim.url, '--config-dir', dir];
    const bad = await runCli(['trust', 'accept', '--fingerprint', 'AB:CD', ...args]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"AB:CD" is not a SHA-256 fingerprint/);
    const other = `${'11:'.repeat(31)}11`;
    assert.equal((await runCli(['trust', 'accept', '--fingerprint', other, ...args])).code, 0);
    const status = await runCli(['status', '--json', ...args]);
    assert.equal(json(status.stdout).state, 'untrusted-certificate');
    assert.equal(sim.requests().length, 0, 'nothing sent to a gateway whose certificate is not the pinned one');
    assert.equal(
      (
        await runCli([
          'trust',
          'accept',
          '--fingerprint',
          sim.fingerprint256.toLowerCase().replaceAll(':', ''),
          ...args,
        ])
      ).code,
      0,
    );
    assert.equal((await runCli(['status', ...args])).code, 0);
  });
});

describe('doctor without a gateway folder', () => {
  test('checks Java from the PATH; no Java is a failure only where the gateway must run here', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    const good = await runCli(['doctor', '--gateway', sim.url, '--config-dir', dir, '--timeout', '2']);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /\n✓ Java: Java \d+.* \(.*java, from (PATH|JAVA_HOME)\): 8u192 or later/);
    assert.match(good.stdout, /\nEvery check passed\.\n$/);

    const noJava = { PATH: '/nonexistent', JAVA_HOME: '' };
    const elsewhere = await runCli(['doctor', '--gateway', sim.url, '--config-dir', dir, '--timeout', '2'], {
      env: noJava,
    });
    assert.equal(elsewhere.code, 0, 'a gateway that answers runs with a Java of its own');
    assert.match(elsewhere.stdout, /\n- Java: No Java found: .* None is needed here while the gateway runs elsewhere/);

    const nothing = `https://127.0.0.1:${await freePort()}`;
    const one = await runCli(['doctor', '--gateway', nothing, '--config-dir', dir, '--timeout', '2']);
    assert.equal(one.code, 10);
    assert.match(one.stdout, /\n✗ port: /);
    assert.match(one.stdout, /\n1 check failed: fix it, then run ibkr-keeper doctor again\.\n$/);
    const two = await runCli(['doctor', '--gateway', nothing, '--config-dir', dir, '--timeout', '2'], {
      env: noJava,
    });
    assert.match(two.stdout, /\n✗ Java: No Java found: .* Fix: Install Java 8u192 or later/);
    assert.match(two.stdout, /\n2 checks failed: fix them from the top/);
  });
});

describe('simulate and demo', () => {
  test(
    'simulate prints its addresses, answers status, ' + 'obeys its control port and stops on SIGINT with 0',
    async (t) => {
      const dir = tempDir(t);
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'bin/ibkr-keeper.js'), 'simulate', '--port', '0', '--json'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      t.after(() => child.kill('SIGKILL'));
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const info = JSON.parse(line.toString().split('\n')[0]!);
      assert.match(info.gateway, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(info.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const status = await runCli(['status', '--gateway', info.gateway, '--config-dir', dir]);
      assert.equal(status.code, 0);
      assert.match(status.stderr, new RegExp(info.fingerprint256));
      await (await request(`${info.control}/events`, { method: 'POST', body: '{"type":"drop"}' })).body.dump();
      assert.equal((await runCli(['status', '--gateway', info.gateway, '--config-dir', dir])).code, 3);
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    },
  );

  test('simulate refuses a bad scenario file and a bad port with exit 2', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ events: [{ at: '1m', type: 'explode' }] }));
    const bad = await runCli(['simulate', '--port', '0', '--scenario', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /scenario\.json has a problem at "events\.0\.type"/);
    const port = await runCli(['simulate', '--port', '70000']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port takes a port from 0 to 65535, not "70000"/);
  });

  test('demo runs the keeper through a simulated day on the simulator and exits 0', async () => {
    const result = await runCli(['demo', '--reauth-latency', '2'], { timeoutMs: 90_000 });
    assert.equal(result.code, 0, result.stderr);
    for (const state of [
      'ready',
      'not-authenticated',
      'reauthenticating',
      'competing',
      'gateway-down',
      'login-required',
      'untrusted-certificate',
      'rate-limited',
    ]) {
      assert.match(result.stdout, new RegExp(`^\\d{2}:\\d{2}:\\d{2}  ${state}: `, 'm'), state);
    }
    for (const title of [
      'IBKR session dropped',
      'IBKR session is back',
      'Another login holds your IBKR session',
      'IBKR login needed',
      "IBKR gateway's certificate changed",
    ]) {
      assert.match(result.stdout, new RegExp(`\\[notification\\] ${title}: `), title);
    }
    assert.match(
      result.stdout,
      /requests reached the gateway, 1 over IBKR's limits \(the flooding script's\), 1 at a time at most/,
    );
    assert.doesNotMatch(result.stdout, /within 1[1-9] min/, 'no SSO window above 10 minutes');
  });
});
