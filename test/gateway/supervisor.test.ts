/**
 * The gateway supervisor against IBKR's real gateway (test/real-gateway.ts copies it to a temporary
 * folder with a free port): start to ready, a `kill -9` restarted, crashes that make it give up
 * with the gateway's own error, attach instead of a second start, a port another program holds,
 * no Java, a gateway left running found by the next start, stop leaving no process, and a line
 * of the gateway's log acted on. Restart waits are shortened through the options (the policy's
 * own waits are the defaults); every process a test starts is ended by its group whatever happens.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { once } from 'node:events';
import { groupAlive, recordFile } from '../../main/gateway/process.ts';
import { gatewayLogFile } from '../../main/gateway/log-watch.ts';
import {
  GatewaySupervisor,
  RESTART_BACKOFF_MS,
  type GatewayFacts,
  type GatewayProcessState,
  type SupervisorOptions,
} from '../../main/gateway/supervisor.ts';
import { UserError } from '../../main/session/errors.ts';
import { realClock, realScheduler, type Scheduler } from '../../main/session/time.ts';
import { generateCertificate } from '../../main/simulator/certificate.ts';
import { pattern, runCli, startSim, tempDir } from '../helpers.ts';
import { copyGateway, editConf, freePort, startGateway } from '../real-gateway.ts';

/** Every pid a supervisor reported, killed by its group after the test whatever happened. */
function supervise(
  t: TestContext,
  options: Omit<SupervisorOptions, 'clock' | 'scheduler'> & { scheduler?: Scheduler },
): GatewaySupervisor {
  const sup = new GatewaySupervisor({ clock: realClock, scheduler: realScheduler, ...options });
  const pids = new Set<number>();
  sup.on('state', (f) => f.pid !== undefined && f.owned && pids.add(f.pid));
  t.after(async () => {
    await sup.stop().catch(() => undefined);
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });
  return sup;
}

/** Resolves with the facts at the first state in `states`. */
function until(sup: GatewaySupervisor, ...states: GatewayProcessState[]): Promise<GatewayFacts> {
  return new Promise((resolve) => {
    const on = (f: GatewayFacts): void => {
      if (!states.includes(f.state)) return;
      sup.off('state', on);
      resolve(f);
    };
    sup.on('state', on);
  });
}

describe('the gateway supervisor, with the real gateway', { timeout: 300_000 }, () => {
  test(
    'starts it to ready with its facts, acts on a login line of its log, restarts it after kill -9, and a ' +
      'stop leaves no process and no restart',
    async (t) => {
      const port = await freePort();
      const dir = copyGateway(t, port);
      const configDir = tempDir(t);
      const sup = supervise(t, { dir, configDir, backoffMs: [200] });
      const facts = await sup.start();
      assert.equal(facts.state, 'running', facts.reason);
      assert.equal(facts.url, `https://localhost:${port}`);
      assert.equal(facts.owned, true);
      assert.ok(facts.pid !== undefined && groupAlive(facts.pid));
      assert.equal(facts.build, 'a27ed42', 'the build from its banner');
      assert.match(facts.javaVersion ?? '', /^\d+/);
      assert.equal(facts.restarts, 0);
      assert.match(
        readFileSync(facts.consoleLog, 'utf8'),
        /Open https:\/\/localhost:\d+ to login/,
        'its console is kept in the config folder',
      );
      const record = JSON.parse(readFileSync(recordFile(configDir, port), 'utf8'));
      assert.equal(record.pid, facts.pid, 'the pid file names it');
      assert.match(readFileSync(`/proc/${facts.pid}/cmdline`, 'latin1'), /^[^\0]*java\0/, 'the pid is the JVM itself');

      // A login in the gateway's log is reported at once (the front end checks the session then).
      const login = once(sup, 'gatewayLog');
      mkdirSync(path.dirname(facts.gatewayLog), { recursive: true });
      appendFileSync(gatewayLogFile(dir, Date.now()), '2026-11-29 10:00:00.000 INFO  ... Client login succeeds\n');
      assert.equal(((await login)[0] as { kind: string }).kind, 'login');
      const failed = once(sup, 'gatewayLog');
      appendFileSync(gatewayLogFile(dir, Date.now()), 'x Reauthentication failed 5 times, stopping\n');
      assert.match(((await failed)[0] as { reason: string }).reason, /gave up logging in/);

      const restarted = until(sup, 'running');
      const restarting = until(sup, 'restarting');
      process.kill(facts.pid!, 'SIGKILL');
      assert.match((await restarting).reason, /^the gateway exited \(signal SIGKILL\)/);
      const again = await restarted;
      assert.equal(again.restarts, 1);
      assert.notEqual(again.pid, facts.pid);
      assert.ok(!groupAlive(facts.pid!), 'the killed one is gone');

      await sup.stop();
      assert.equal(sup.facts().state, 'stopped');
      assert.ok(!groupAlive(again.pid!), 'no process of its group is left');
      assert.ok(!existsSync(recordFile(configDir, port)), 'the pid file is removed');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(sup.facts().state, 'stopped', 'a gateway the user stopped is never restarted');
    },
  );

  test(
    "three exits in a row: restarts after 5 s and 30 s, then gives up with the gateway's own error (an " +
      'unknown key in conf.yaml); the pre-start check names such a key',
    async (t) => {
      const port = await freePort();
      const dir = copyGateway(t, port);
      const configDir = tempDir(t);
      // The policy's own waits, fast-forwarded: each wait the supervisor asks for is noted and runs at once.
      const waits: number[] = [];
      const fastForward: Scheduler = {
        after: (ms, run) => {
          if ((RESTART_BACKOFF_MS as readonly number[]).includes(ms)) waits.push(ms);
          return realScheduler.after(ms >= 5_000 ? 20 : ms, run);
        },
      };
      const sup = supervise(t, { dir, configDir, scheduler: fastForward });
      const restarting: string[] = [];
      sup.on('state', (f) => f.state === 'restarting' && restarting.push(f.reason));
      const first = await sup.start();
      assert.equal(first.state, 'running', first.reason);
      editConf(dir, (text) => `${text}fooBar: 1\n`);
      const down = until(sup, 'gave-up');
      process.kill(first.pid!, 'SIGKILL');
      const facts = await down;
      assert.match(
        facts.reason,
        pattern(
          /^the gateway keeps exiting \(code 1\): Unable to find property /,
          /'fooBar' on class: ibgroup\.web\.core\.clientportal\.gw\.Config$/,
        ),
      );
      assert.equal(facts.restarts, 2);
      assert.deepEqual(waits, [5_000, 30_000]);
      assert.match(restarting[0]!, /^the gateway exited \(signal SIGKILL\): .*; restarting in 5 s$/);
      assert.match(
        restarting[1]!,
        /^the gateway exited \(code 1\): Unable to find property 'fooBar'.*; restarting in 30 s$/,
      );
      assert.ok(
        facts.lastExit?.lastLines.some((l) => l.includes('fooBar')),
        'its last lines are kept',
      );
      assert.equal(facts.pid, undefined);

      // Started anew with that file, nothing starts: the check says which key.
      const fresh = supervise(t, { dir, configDir });
      await assert.rejects(
        fresh.start(),
        (e: Error) => e instanceof UserError && /has the key "fooBar", which the gateway does not know/.test(e.message),
      );
      assert.equal(fresh.facts().pid, undefined);
    },
  );

  test(
    'a gateway already on the port is attached to, not started twice, and not stopped; one left running is ' +
      'found by the next start',
    async (t) => {
      const port = await freePort();
      const dir = copyGateway(t, port);
      const gw = await startGateway(t, dir);
      const sup = supervise(t, { dir, configDir: tempDir(t) });
      const facts = await sup.start();
      assert.equal(facts.state, 'attached');
      assert.equal(facts.owned, false);
      assert.match(facts.reason, new RegExp(`a gateway already listens on port ${port}: attached to it`));
      await sup.stop();
      assert.ok(groupAlive(gw.pgid), 'a gateway it did not start is left alone');
      await gw.stop();

      // Left running by one keeper, found and kept by the next, which then stops it.
      const configDir = tempDir(t);
      const first = supervise(t, { dir, configDir });
      const started = await first.start();
      assert.equal(started.state, 'running', started.reason);
      first.release();
      assert.ok(groupAlive(started.pid!));
      const next = supervise(t, { dir, configDir });
      const found = await next.start();
      assert.equal(found.state, 'attached');
      assert.equal(found.owned, true);
      assert.equal(found.pid, started.pid);
      assert.match(found.reason, /the gateway this keeper started earlier \(pid \d+, since .*\) is still running/);
      await next.stop();
      assert.ok(!groupAlive(started.pid!), 'stopped by the keeper that found it');
    },
  );

  const TAKEN =
    'a port another program holds (HTTP, or HTTPS but not a gateway), no Java: a clear error, nothing started';
  test(TAKEN, async (t) => {
    const port = await freePort();
    const dir = copyGateway(t, port);
    const other = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => other.close(resolve)));
    const sup = supervise(t, { dir, configDir: tempDir(t) });
    await assert.rejects(
      sup.start(),
      (e: Error) =>
        e instanceof UserError &&
        new RegExp(
          `^Port ${port} is taken by another program \\(.*\\), not a gateway: stop that program, or give the ` +
            `gateway another "listenPort" in .*conf\\.yaml\\.$`,
        ).test(e.message),
    );
    await new Promise((resolve) => other.close(resolve));

    // A TLS server is not a gateway by its handshake alone: an HTTPS server with another certificate
    // is named (exit 2 from the command line), nothing attached or started.
    const tlsServer = await generateCertificate({ modern: true });
    const https = createHttpsServer({ key: tlsServer.key, cert: tlsServer.cert }, (_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => https.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => https.close(resolve)));
    const notGateway = new RegExp(
      `^Port ${port} is taken by another program \\(an HTTPS server, but not IBKR's gateway: GET / answered 200 ` +
        'instead of a redirect to its login page\\), not a gateway: stop that program',
    );
    const config = tempDir(t);
    const fooled = supervise(t, { dir, configDir: config });
    await assert.rejects(fooled.start(), (e: Error) => e instanceof UserError && notGateway.test(e.message));
    assert.equal(fooled.facts().state, 'stopped');
    assert.equal(fooled.facts().pid, undefined);
    const cli = await runCli(['gateway', 'start', '--dir', dir, '--config-dir', config]);
    assert.equal(cli.code, 2, cli.stdout + cli.stderr);
    assert.match(cli.stderr, /^ibkr-keeper: Port \d+ is taken by another program \(an HTTPS server, but not IBKR's/);
    assert.doesNotMatch(cli.stdout + cli.stderr, /attached/);
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));

    // The simulator answers as the gateway does, also while IBKR is unreachable: attached.
    const sim = await startSim(t, { port, unreachable: true });
    const attached = await supervise(t, { dir, configDir: tempDir(t) }).start();
    assert.equal(attached.state, 'attached', attached.reason);
    await sim.stop();

    const noJava = supervise(t, { dir, configDir: tempDir(t), env: { PATH: '/nonexistent' } });
    await assert.rejects(
      noJava.start(),
      (e: Error) =>
        e instanceof UserError &&
        /^No Java found: JAVA_HOME is not set and no java is on the PATH\. Install Java 8u192 or later/.test(e.message),
    );
    assert.equal(noJava.facts().pid, undefined);
  });
});
