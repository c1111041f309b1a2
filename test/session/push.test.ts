/**
 * Push: the keeper holds the gateway's WebSocket while ready and confirms what it says at once,
 * against the simulator in virtual time. "At once" is asserted as "before any virtual time
 * passed": no tickle came between the drop and the keeper's knowing it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { HOUR, keeperRig, MINUTE, type KeeperRig } from '../keeper-harness.ts';

/** Waits (real time, up to 5 s) until `condition` holds, or fails naming `what`. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (condition()) return;
    await sleep(10);
  }
  assert.fail(`never: ${what}`);
}

/** A ready keeper holding an open socket. */
async function heldRig(
  t: Parameters<typeof keeperRig>[0],
  options: Parameters<typeof keeperRig>[1] = {},
): Promise<KeeperRig> {
  const rig = await keeperRig(t, { push: true, ...options });
  await rig.time.runFor(1_000);
  assert.equal(rig.keeper.status().state, 'ready');
  await until(() => rig.push!.state === 'open', 'the socket opened');
  return rig;
}

describe('push', () => {
  test(
    'a drop pushed by the gateway is confirmed with ' + 'one auth status and acted on before the next tickle',
    async (t) => {
      const rig = await heldRig(t);
      const sessions = [rig.sim.model.session];
      const seq = rig.seq();
      const mono = rig.time.monotonic();
      await rig.sim.apply({ type: 'drop' });
      await until(() => rig.keeper.status().state !== 'ready', 'the keeper heard of the drop');
      assert.equal(rig.time.monotonic(), mono, 'no virtual time passed: heard through the socket, not the next tickle');
      assert.equal(rig.count('/tickle', seq), 0);
      assert.equal(rig.count('/iserver/auth/status', seq), 1, 'confirmed with one auth status');
      assert.ok(rig.transitions.some((tr) => tr.previous === 'ready' && tr.state === 'not-authenticated'));
      assert.match(rig.logs.join('\n'), /Push: the gateway pushed "not authenticated"/);
      // Recovery as today (its reauthentication is under way before the virtual clock moves on), then the
      // socket is held again with the new session, a tickle after the comeback, and the next drop is heard
      // at once too.
      await until(() => rig.keeper.status().state === 'reauthenticating', 'reauthenticating');
      await rig.time.runFor(15_000);
      assert.equal(rig.keeper.status().state, 'ready');
      await until(() => rig.push!.state === 'open' && rig.push!.opened === 2, 'a new socket for the new session');
      sessions.push(rig.sim.model.session);
      const again = rig.time.monotonic();
      await rig.sim.apply({ type: 'drop' });
      await until(() => rig.keeper.status().state !== 'ready', 'the second drop heard');
      assert.equal(rig.time.monotonic(), again);
      assert.equal(rig.sim.limiter.violations, 0);
      for (const session of sessions)
        assert.ok(
          !JSON.stringify([rig.logs, rig.transitions, rig.keeper.status()]).includes(session),
          'the session id is never shown whole',
        );
    },
  );

  test('another login competing is heard at once and shown; the keeper does not fight it', async (t) => {
    const rig = await heldRig(t);
    const seq = rig.seq();
    await rig.sim.apply({ type: 'compete', kicked: false });
    await until(() => rig.keeper.status().state === 'competing', 'competing shown');
    assert.equal(rig.count('/tickle', seq), 0);
    assert.equal(rig.count('/iserver/reauthenticate', seq), 0);
  });

  test('a closed socket is a doubt: one auth status, still ready, and a new socket after a backoff', async (t) => {
    const rig = await heldRig(t);
    const seq = rig.seq();
    await rig.sim.apply({ type: 'push', action: 'close-sockets' });
    await until(() => rig.count('/iserver/auth/status', seq) === 1, 'the doubt confirmed');
    await until(() => rig.push!.state === 'waiting', 'waiting to connect again');
    assert.equal(rig.keeper.status().state, 'ready', 'the auth status said ready: nothing changes');
    await rig.time.runFor(2_000);
    await until(() => rig.push!.state === 'open' && rig.push!.opened === 2, 'connected again');
    assert.equal(rig.transitions.filter((tr) => tr.previous === 'ready').length, 0);
  });

  test('a gateway that stops beating is a doubt within 25 s: one auth status, then a new socket', async (t) => {
    const rig = await heldRig(t);
    await rig.time.runFor(15_000);
    // The heartbeat of 10 s, on its way, arrives before the silence starts.
    await sleep(50);
    await rig.sim.apply({ type: 'push', action: 'drop-heartbeats' });
    const seq = rig.seq();
    await rig.time.runFor(26_000);
    await until(() => rig.count('/iserver/auth/status', seq) === 1, 'the silence confirmed with one auth status');
    await until(() => rig.push!.state === 'open' && rig.push!.opened === 2, 'a new socket');
    assert.equal(rig.count('/tickle', seq), 0, 'within 25 s, before the next tickle');
    assert.equal(rig.keeper.status().state, 'ready');
  });

  test(
    'a refused upgrade: polling alone, said once, drops ' + 'still noticed at the next tickle; push comes back later',
    async (t) => {
      const rig = await keeperRig(t, { push: true, sim: undefined });
      await rig.sim.apply({ type: 'push', action: 'refuse-upgrades' });
      await rig.time.runFor(1_000);
      await until(() => rig.logs.some((l) => l.startsWith('Push is not available')), 'said in the log');
      await rig.time.runFor(10 * MINUTE);
      await sleep(50);
      await rig.time.runFor(10 * MINUTE);
      assert.equal(rig.logs.filter((l) => l.startsWith('Push is not available')).length, 1, 'said once');
      assert.match(rig.logs.find((l) => l.startsWith('Push is not available'))!, /HTTP 503.*polling alone/);
      await rig.sim.apply({ type: 'drop' });
      await rig.time.runFor(MINUTE);
      assert.ok(
        rig.transitions.some((tr) => tr.previous === 'ready'),
        'polling noticed the drop',
      );
      await rig.time.runFor(2 * MINUTE);
      await rig.sim.apply({ type: 'push', action: 'accept-upgrades' });
      await rig.time.runFor(6 * MINUTE);
      await until(() => rig.push!.state === 'open', 'push back once upgrades are accepted');
      assert.ok(rig.logs.some((l) => /WebSocket is back/.test(l)));
      assert.equal(rig.sim.limiter.violations, 0);
    },
  );

  test(
    'steady state: 60 REST requests an hour with push ' + 'as without, and a tic on the socket every minute',
    async (t) => {
      const withPush = await heldRig(t);
      const without = await keeperRig(t);
      await without.time.runFor(1_000);
      const seqs = [withPush.seq(), without.seq()];
      const tics = withPush.sim.push.tics;
      for (let i = 0; i < 60; i += 1) {
        await withPush.time.runFor(MINUTE);
        await without.time.runFor(MINUTE);
        await sleep(5);
      }
      const rest = (rig: KeeperRig, since: number) =>
        rig.sim.requests(since).filter((r) => r.path !== '/v1/api/ws').length;
      assert.equal(rest(withPush, seqs[0]!), 60);
      assert.equal(rest(without, seqs[1]!), 60);
      assert.equal(withPush.count('/tickle', seqs[0]), 60);
      assert.ok(withPush.sim.push.tics - tics >= 60, 'at least a tic a minute');
      assert.equal(withPush.push!.opened, 1, 'one socket all along');
      assert.equal(HOUR, 60 * MINUTE);
    },
  );
});
