/**
 * The keeper over simulated hours of faults, in virtual time against the real simulator: the
 * states it goes through, the requests it sends, and what it would notify.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileBudget, POLICY } from '../../main/session/policy.ts';
import { TrustStore } from '../../main/session/trust-store.ts';
import { raw } from '../helpers.ts';
import { HOUR, keeperRig, MINUTE } from '../keeper-harness.ts';

const kinds = (rig: { notes: Array<{ kind: string }> }): string[] => rig.notes.map((n) => n.kind);

describe('steady state', () => {
  test('a clean start: ready at once, no notification, then one tickle per interval and nothing else', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.equal(rig.keeper.status().facts.userName, 'simuser1');
    const seq = rig.seq();
    await rig.time.runFor(HOUR);
    assert.deepEqual(
      rig.transitions.map((x) => x.state),
      ['ready'],
    );
    assert.deepEqual(kinds(rig), []);
    assert.equal(rig.count('/tickle', seq), 60);
    assert.equal(rig.sim.requests(seq).length, 60, 'nothing but tickles');
    assert.equal(rig.sim.model.brokerage, 'authenticated', 'the session did not time out');
  });

  test('a transient failure is confirmed by a second look and is not a drop', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    for (const fault of ['server-error', 'malformed', 'truncated'] as const) {
      await rig.sim.apply({ type: 'fault', fault, path: '/tickle' });
      await rig.time.runFor(MINUTE);
    }
    await rig.time.runFor(MINUTE);
    assert.deepEqual(
      rig.transitions.map((x) => x.state),
      ['ready'],
    );
    assert.deepEqual(kinds(rig), []);
    assert.equal(rig.count('/iserver/auth/status'), 3, 'one confirming look per odd answer');
  });
});

describe('drops and recovery', () => {
  test('a drop is seen within the interval, reauthenticated, and back within the latency + 3 s', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 6_000 } });
    await rig.time.runFor(37_000);
    await rig.sim.apply({ type: 'drop' });
    const droppedAt = rig.time.monotonic();
    await rig.time.runFor(2 * MINUTE);
    assert.deepEqual(
      rig.transitions.map((x) => x.state),
      ['ready', 'not-authenticated', 'reauthenticating', 'ready'],
    );
    const seen = rig.transitions[1]!.mono;
    assert.ok(seen - droppedAt <= MINUTE + 1_000, `seen after ${seen - droppedAt} ms`);
    assert.ok(rig.transitions[3]!.mono - seen <= 6_000 + 3_000, `back after ${rig.transitions[3]!.mono - seen} ms`);
    assert.deepEqual(kinds(rig), ['drop', 'recovery']);
    assert.equal(rig.count('/iserver/reauthenticate'), 1);
  });

  test(
    'no tug of war: lost again soon after each of two reauthentications, the keeper stops and says another ' +
      'login takes it',
    async (t) => {
      const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
      await rig.time.runFor(1_000);
      // Another login takes the session back a few minutes after each time the keeper brought it back.
      for (let round = 0; round < 3; round += 1) {
        await rig.sim.apply({ type: 'unauthenticate' });
        await rig.time.runFor(5 * MINUTE);
      }
      const tug = rig.transitions.at(-1)!;
      assert.equal(tug.state, 'competing');
      assert.match(tug.reason, /Another login takes the session back each time the keeper reauthenticates.*Take over/);
      assert.equal(rig.count('/iserver/reauthenticate'), 2, 'two reauthentications, then none');
      const seq = rig.seq();
      await rig.time.runFor(HOUR);
      assert.equal(
        rig.count('/iserver/reauthenticate', seq) + rig.count('/iserver/auth/ssodh/init', seq),
        0,
        'it does not fight on',
      );
      assert.equal(rig.keeper.status().state, 'competing');
      assert.equal(kinds(rig).filter((k) => k === 'competing').length, 1, 'notified once');
      // The user chooses Take over: the session comes back, and the keeper keeps it.
      assert.equal((await rig.keeper.takeOver()).ok, true);
      await rig.time.runFor(MINUTE);
      assert.equal(rig.keeper.status().state, 'ready');
    },
  );

  test(
    'no tug of war with a TWS that takes the session back ' + '45 s after each loss (the gateway shows a plain drop)',
    async (t) => {
      const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
      await rig.time.runFor(1_000);
      await rig.sim.apply({ type: 'compete', kicked: true, takeBackAfter: '45s', shows: 'not-authenticated' });
      await rig.time.runFor(20 * MINUTE);
      assert.equal(rig.keeper.status().state, 'competing');
      assert.match(rig.keeper.status().reason, /takes the session back each time the keeper reauthenticates/);
      assert.ok(rig.count('/iserver/reauthenticate') <= 3, `${rig.count('/iserver/reauthenticate')} reauthentications`);
      assert.equal(kinds(rig).filter((k) => k === 'competing').length, 1, 'notified once');
      assert.equal(rig.sim.limiter.violations, 0);
    },
  );

  test('a session lost long after a reauthentication is an ordinary drop, recovered each time', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    for (let round = 0; round < 3; round += 1) {
      await rig.sim.apply({ type: 'unauthenticate' });
      await rig.time.runFor(15 * MINUTE);
      assert.equal(rig.keeper.status().state, 'ready', `round ${round}`);
    }
    assert.equal(rig.count('/iserver/reauthenticate'), 3);
    assert.ok(!rig.transitions.some((x) => x.state === 'competing'));
  });

  test('tickle "no session" (connected, not authenticated) is recovered the same way', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'unauthenticate' });
    await rig.time.runFor(2 * MINUTE);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.ok(rig.transitions.some((x) => x.state === 'not-authenticated' && /connected to IBKR, but/.test(x.reason)));
  });

  test(
    'a stuck reauthentication: three tries with growing ' + 'pauses, then it stops and says so; no login loop',
    async (t) => {
      const rig = await keeperRig(t, { settings: { reauthOutcome: 'fail' } });
      await rig.time.runFor(1_000);
      await rig.sim.apply({ type: 'drop' });
      await rig.time.runFor(3 * HOUR);
      const tries = rig.sim
        .requests()
        .filter((r) => r.path === '/v1/api/iserver/reauthenticate')
        .map((r) => Date.parse(r.at));
      assert.equal(tries.length, 3);
      // Each try is followed for 60 s; then a pause of 30 s, then 120 s (jitter is fixed in the rig).
      assert.ok(tries[1]! - tries[0]! >= 60_000 + 30_000, `second try ${tries[1]! - tries[0]!} ms after the first`);
      assert.ok(tries[2]! - tries[1]! >= 60_000 + 120_000, `third try ${tries[2]! - tries[1]!} ms after the second`);
      const status = rig.keeper.status();
      assert.equal(status.state, 'not-authenticated');
      assert.match(
        status.reason,
        /stopped reauthenticating \(3 reauthentications did not bring the session back\) so as not to lock the account/,
      );
      assert.deepEqual(kinds(rig), ['drop', 'recovery-stopped']);
      await rig.sim.apply({ type: 'configure', reauthOutcome: 'succeed' });
      const result = await rig.keeper.reauthenticate();
      assert.equal(result.ok, true);
      await rig.time.runFor(MINUTE);
      assert.equal(rig.keeper.status().state, 'ready', 'a person can still reauthenticate');
      assert.deepEqual(kinds(rig), ['drop', 'recovery-stopped', 'recovery']);
    },
  );

  test('the recovery budget survives a restart of the keeper', async (t) => {
    const { tempDir } = await import('../helpers.ts');
    const dir = tempDir(t);
    const first = await keeperRig(t, { settings: { reauthOutcome: 'fail' }, budget: fileBudget(dir), dir });
    await first.time.runFor(1_000);
    await first.sim.apply({ type: 'drop' });
    await first.time.runFor(3 * MINUTE);
    assert.equal(first.count('/iserver/reauthenticate'), 2);
    await first.keeper.stop();
    const second = await keeperRig(t, { budget: fileBudget(dir), dir, sim: first.sim });
    await second.time.runFor(3 * HOUR);
    assert.equal(first.count('/iserver/reauthenticate'), 3, 'one more after the restart, not three');
    assert.match(second.keeper.status().reason, /stopped reauthenticating/);
  });
});

describe('competing, login, outages', () => {
  test('competing: shown, never reauthenticated, logged out or taken over by itself; Take over works', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 4_000 } });
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'compete', kicked: true });
    await rig.time.runFor(2 * HOUR);
    assert.equal(rig.keeper.status().state, 'competing');
    assert.equal(
      rig.count('/iserver/reauthenticate') + rig.count('/iserver/auth/ssodh/init') + rig.count('/logout'),
      0,
    );
    assert.deepEqual(kinds(rig), ['competing']);
    const result = await rig.keeper.takeOver();
    assert.equal(result.ok, true);
    await rig.time.runFor(MINUTE);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.equal(rig.count('/iserver/auth/ssodh/init'), 1);
    assert.deepEqual(kinds(rig), ['competing', 'recovery']);
  });

  test(
    'login required: polls at the interval, every 5 s ' + 'after "Open login page", ready soon after the login',
    async (t) => {
      const rig = await keeperRig(t);
      await rig.time.runFor(1_000);
      await rig.sim.apply({ type: 'expire-sso' });
      await rig.time.runFor(10 * MINUTE);
      assert.equal(rig.keeper.status().state, 'login-required');
      const seq = rig.seq();
      await rig.time.runFor(10 * MINUTE);
      assert.ok(rig.sim.requests(seq).length <= 11, `${rig.sim.requests(seq).length} requests in 10 min`);
      assert.equal(rig.keeper.openLoginPage(), rig.sim.url);
      await rig.time.runFor(30_000);
      await rig.sim.apply({ type: 'login' });
      const loggedIn = rig.time.monotonic();
      await rig.time.runFor(MINUTE);
      const back = rig.transitions.find((x) => x.state === 'ready' && x.mono > loggedIn)!;
      assert.ok(back.mono - loggedIn <= POLICY.loginPollMs + 1_000, `ready ${back.mono - loggedIn} ms after the login`);
      assert.deepEqual(kinds(rig), ['login-required', 'recovery']);
      assert.match(
        rig.notes[0]!.message,
        new RegExp(`open ${rig.sim.url.replaceAll('.', '\\.')} in a browser and log in`, 'i'),
      );
    },
  );

  test('IBKR restart: gateway-down with backoff 5, 15, 30, 60 s, notified once, then recovered', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'restart', duration: '4m' });
    const seq = rig.seq();
    await rig.time.runFor(10 * MINUTE);
    const down = rig.sim
      .requests(seq)
      .filter((r) => r.status === 500 || r.status === 503)
      .map((r) => Date.parse(r.at));
    const gaps = down.slice(2).map((at, i) => Math.round((at - down[i + 1]!) / 1_000));
    assert.deepEqual(gaps.slice(0, 4), [5, 15, 30, 60]);
    assert.ok(
      gaps.slice(4).every((g) => g === 60),
      `then every 60 s: ${gaps}`,
    );
    assert.equal(rig.keeper.status().state, 'ready');
    assert.deepEqual(kinds(rig), ['gateway-down', 'recovery']);
  });

  test('Reauthenticate or Take over while the gateway restarts: says it did not start, and why', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'restart', duration: '4m' });
    const reauth = await rig.keeper.reauthenticate();
    assert.equal(reauth.ok, false);
    assert.match(
      reauth.message,
      /^The reauthentication did not start: The gateway answers HTTP 50[03]: IBKR may be restarting/,
    );
    const takeOver = await rig.keeper.takeOver();
    assert.equal(takeOver.ok, false);
    assert.match(
      takeOver.message,
      /^The takeover did not start: The gateway answers HTTP 50[03]: IBKR may be restarting/,
    );
    assert.equal(rig.keeper.status().state, 'gateway-down');
  });

  test('429: rate-limited, nothing sent for 10 minutes, then on again', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    await raw(rig.sim, 'POST', '/v1/api/tickle');
    await raw(rig.sim, 'POST', '/v1/api/tickle'); // another program breaks the limit
    const seq = rig.seq();
    await rig.time.runFor(MINUTE);
    assert.equal(rig.keeper.status().state, 'rate-limited');
    assert.equal(rig.sim.requests(seq).length, 1, 'the one request that met the 429');
    await rig.time.runFor(9 * MINUTE);
    assert.equal(rig.sim.requests(seq).length, 1, 'silent during the penalty');
    await rig.time.runFor(2 * MINUTE);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.equal(rig.sim.limiter.violations, 1, "only the other program's");
  });

  test('a changed certificate stops the keeper: nothing is sent until the user trusts the new one', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'rotate-certificate' });
    const seq = rig.seq();
    await rig.time.runFor(3 * HOUR);
    assert.equal(rig.keeper.status().state, 'untrusted-certificate');
    assert.equal(rig.sim.requests(seq).length, 0);
    assert.deepEqual(kinds(rig), ['certificate-changed']);
    assert.equal(rig.keeper.status().facts.presentedFingerprint, rig.sim.fingerprint256);
    const { probeCertificate } = await import('../../main/session/tls.ts');
    const seen = await probeCertificate('127.0.0.1', rig.sim.port, 2_000);
    new TrustStore(rig.dir).record(rig.sim.url, { fingerprint256: seen.fingerprint256, pem: seen.pem, source: 'user' });
    await rig.time.runFor(MINUTE);
    assert.equal(
      rig.keeper.status().state,
      'ready',
      'the new pin was noticed; the three idle hours ended the session; the keeper brought it back',
    );
    assert.match(rig.logs.join('\n'), /The trusted certificate changed: checking the session now/);
  });
});

describe('sleep, clock jumps, errors, actions', () => {
  test('after a suspend the keeper checks at once and recovers the timed-out session', async (t) => {
    const rig = await keeperRig(t, { settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    rig.time.suspend(2 * HOUR);
    const resumed = rig.time.monotonic();
    await rig.time.runFor(MINUTE);
    const seen = rig.transitions.find((x) => x.state === 'not-authenticated')!;
    assert.ok(
      seen.mono - resumed <= POLICY.watchdogMs + POLICY.confirmAfterMs + 100,
      `seen ${seen.mono - resumed} ms after waking`,
    );
    assert.equal(rig.keeper.status().state, 'ready');
    assert.match(rig.logs.join('\n'), /woke from sleep or the clock moved ahead \(7200 s\)/);
  });

  test('a clock set back is noticed and checked; the loop goes on', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    rig.time.jumpWall(-HOUR);
    await rig.time.runFor(2 * MINUTE);
    assert.match(rig.logs.join('\n'), /the clock moved back \(3600 s\)/);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.ok(rig.count('/tickle') >= 3);
  });

  test('an error inside a step is shown as keeper-error with its words, and the loop goes on', async (t) => {
    let failures = 1;
    const { memoryBudget } = await import('../../main/session/policy.ts');
    const inner = memoryBudget();
    const budget = {
      read: inner.read,
      write: (value: Parameters<typeof inner.write>[0]) => {
        if (failures-- > 0) throw new Error('disk full');
        inner.write(value);
      },
    };
    const rig = await keeperRig(t, { budget, settings: { reauthLatencyMs: 3_000 } });
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'drop' });
    await rig.time.runFor(5 * MINUTE);
    assert.match(rig.logs.join('\n'), /could not complete a step \(it tries again at the next interval\): disk full/);
    const fault = rig.transitions.find((x) => x.state === 'keeper-error');
    assert.match(fault?.reason ?? '', /The keeper cannot keep the session: disk full/);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.equal(rig.keeper.alive(), true);
  });

  test('pause stops all requests; resume checks at once; logout ends the session', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    await rig.keeper.pause();
    const seq = rig.seq();
    await rig.time.runFor(HOUR);
    assert.equal(rig.sim.requests(seq).length, 0);
    assert.equal(rig.keeper.status().state, 'paused');
    await rig.keeper.resume();
    assert.deepEqual(
      rig.transitions.slice(-3).map((x) => x.state),
      ['starting', 'not-authenticated', 'reauthenticating'],
      'an hour paused let the session time out',
    );
    await rig.time.runFor(MINUTE);
    assert.equal(rig.keeper.status().state, 'ready');
    const out = await rig.keeper.logout();
    assert.equal(out.ok, true);
    assert.equal(rig.keeper.status().state, 'login-required');
    assert.equal(rig.sim.model.sso, 'ended');
    await rig.time.runFor(10 * MINUTE);
    assert.equal(rig.count('/iserver/reauthenticate'), 1, 'no reauthentication after a logout');
  });
});

describe('a simulated day', () => {
  test(
    'every fault in turn, no rule broken: no rate-limit ' + 'violation, one request at a time, no takeover',
    async (t) => {
      const rig = await keeperRig(t, { settings: { reauthLatencyMs: 5_000 } });
      const day: Array<[number, () => Promise<void> | void]> = [
        [1 * HOUR, () => rig.sim.apply({ type: 'fault', fault: 'server-error', path: '/tickle' })],
        [2 * HOUR, () => rig.sim.apply({ type: 'drop' })],
        [3 * HOUR, () => rig.sim.apply({ type: 'fault', fault: 'slow', delay: '3s', count: 1 })],
        [4 * HOUR, () => rig.sim.apply({ type: 'compete', kicked: true })],
        [5 * HOUR, () => rig.sim.apply({ type: 'login' })],
        [6 * HOUR, () => rig.sim.apply({ type: 'restart', duration: '3m' })],
        [7 * HOUR, () => rig.sim.apply({ type: 'no-bridge', duration: '2m' })],
        [8 * HOUR, () => rig.sim.apply({ type: 'fault', fault: 'sso-invalid' })],
        [9 * HOUR, () => rig.sim.apply({ type: 'expire-sso' })],
        [10 * HOUR, () => rig.sim.apply({ type: 'login' })],
        [11 * HOUR, () => rig.time.suspend(HOUR)],
        [13 * HOUR, () => rig.sim.apply({ type: 'access-denied', duration: '5m' })],
      ];
      let elapsed = 0;
      for (const [at, act] of day) {
        await rig.time.runFor(at - elapsed);
        elapsed = at;
        await act();
      }
      await rig.time.runFor(24 * HOUR - elapsed);
      assert.equal(rig.sim.limiter.violations, 0);
      assert.equal(rig.sim.maxInFlight, 1);
      assert.equal(rig.count('/iserver/auth/ssodh/init') + rig.count('/logout'), 0);
      assert.equal(rig.keeper.status().state, 'ready');
      const states = new Set(rig.transitions.map((x) => x.state));
      for (const state of [
        'ready',
        'not-authenticated',
        'reauthenticating',
        'competing',
        'login-required',
        'gateway-down',
      ])
        assert.ok(states.has(state as never), state);
      assert.ok(rig.count('/tickle') < 24 * 60 + 60, `${rig.count('/tickle')} tickles in a day`);
    },
  );
});

describe("keeper: the gateway supervisor's reason", () => {
  test(
    'gateway-down says why the supervisor gave up, ' + 'and a refused connection again once that is cleared',
    async (t) => {
      const rig = await keeperRig(t);
      await rig.time.runFor(1_000);
      await rig.sim.apply({ type: 'restart', duration: '4m' });
      await rig.time.runFor(MINUTE + 10_000);
      assert.equal(rig.keeper.status().state, 'gateway-down');
      rig.keeper.setGatewayProblem(
        "the gateway keeps exiting (code 1): Unable to find property 'fooBar' on class: " +
          'ibgroup.web.core.clientportal.gw.Config',
      );
      await rig.keeper.checkNow();
      assert.equal(
        rig.keeper.status().reason,
        "The gateway keeps exiting (code 1): Unable to find property 'fooBar' on class: " +
          'ibgroup.web.core.clientportal.gw.Config.',
      );
      rig.keeper.setGatewayProblem(undefined);
      await rig.keeper.checkNow();
      assert.equal(rig.keeper.status().state, 'gateway-down');
      assert.doesNotMatch(rig.keeper.status().reason, /keeps exiting/);
    },
  );
});

describe("keeper: what the gateway's log says of its login", () => {
  const GAVE_UP =
    'the gateway\'s log says "Reauthentication failed 5 times, stopping": it gave up logging in to IBKR again; ' +
    "log in again on the gateway's login page.";

  test("said at once in the reason of the session's state (the state unchanged), gone after a login", async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'expire-sso' });
    await rig.time.runFor(2 * MINUTE);
    assert.equal(rig.keeper.status().state, 'login-required');
    const before = rig.keeper.status().reason;
    const statuses: string[] = [];
    rig.keeper.on('status', (s) => statuses.push(`${s.state}: ${s.reason}`));
    const seq = rig.seq();
    rig.keeper.setGatewayProblem({ log: GAVE_UP });
    const said = `${before} The gateway's log says "Reauthentication failed 5 times, stopping"`;
    assert.ok(rig.keeper.status().reason.startsWith(said), rig.keeper.status().reason);
    assert.equal(rig.keeper.status().state, 'login-required', "the state stays the session's");
    assert.ok(statuses.at(-1)?.startsWith(`login-required: ${said}`), 'said at once, without a check');
    assert.equal(rig.sim.requests(seq).length, 0, 'nothing was sent to say it');
    await rig.time.runFor(2 * MINUTE);
    assert.match(rig.keeper.status().reason, /Reauthentication failed 5 times/, 'it stays over the next checks');

    await rig.sim.apply({ type: 'login' });
    await rig.time.runFor(2 * MINUTE);
    assert.equal(rig.keeper.status().state, 'ready');
    assert.doesNotMatch(rig.keeper.status().reason, /Reauthentication failed/);
    await rig.sim.apply({ type: 'expire-sso' });
    await rig.time.runFor(2 * MINUTE);
    assert.equal(rig.keeper.status().state, 'login-required');
    assert.equal(rig.keeper.status().reason, before, 'a later drop does not bring back what the log said before');
  });

  test('"Client login succeeds" (or the gateway running again) forgets it before the session is ready', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    await rig.sim.apply({ type: 'expire-sso' });
    await rig.time.runFor(2 * MINUTE);
    rig.keeper.setGatewayProblem({ log: GAVE_UP });
    assert.match(rig.keeper.status().reason, /Reauthentication failed/);
    rig.keeper.setGatewayProblem(undefined);
    assert.doesNotMatch(rig.keeper.status().reason, /Reauthentication failed/);
    assert.equal(rig.keeper.status().state, 'login-required');
  });

  test('every change of state names its gateway (several in one history can be told apart)', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    assert.deepEqual(
      rig.transitions.map((x) => x.gateway),
      [rig.sim.url],
    );
  });
});
