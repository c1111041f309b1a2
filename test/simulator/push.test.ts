/** The simulator's WebSocket `/v1/api/ws`, as docs/gateway.md describes the real one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientFor, startSim } from '../helpers.ts';
import { openSocket } from '../push-helpers.ts';
import type { Simulator } from '../../main/simulator/server.ts';
import type { TestContext } from 'node:test';

async function sessionOf(t: TestContext, sim: Simulator): Promise<string> {
  const tickle = await clientFor(t, sim).tickle();
  assert.equal(tickle.kind, 'answer');
  return (tickle as { body: { session: string } }).body.session;
}

const topic = (name: string) => (f: any) => typeof f === 'object' && f?.topic === name;
const heartbeat = (f: any) => f?.topic === 'system' && typeof f.hb === 'number';

describe('simulator WebSocket', () => {
  test(
    'the cookie authenticates: system, act, sts on connect; tic answered; a session text frame is an unknown ' +
      'topic',
    async (t) => {
      const sim = await startSim(t);
      const probe = openSocket(t, sim, await sessionOf(t, sim));
      await probe.opened;
      const sts = await probe.next(topic('sts'));
      assert.deepEqual(
        probe.frames.map((f: any) => f.topic),
        ['system', 'act', 'sts'],
      );
      assert.equal(sts.args.authenticated, true);
      assert.equal(sts.args.competing, false);
      probe.ws.send('tic');
      const tic = await probe.next(topic('tic'));
      assert.equal(tic.alive, true);
      probe.ws.send(JSON.stringify({ session: 'x' }));
      assert.equal(await probe.next((f) => typeof f === 'string'), `Topic unknown '{"s'`);
    },
  );

  test('without the cookie: waiting for session, and closed with 1000 while unauthenticated', async (t) => {
    const sim = await startSim(t);
    const open = openSocket(t, sim);
    assert.deepEqual(await open.next((f) => f?.message !== undefined), { message: 'waiting for session' });
    await sim.apply({ type: 'unauthenticate' });
    const late = openSocket(t, sim);
    await late.next((f) => f?.message === 'waiting for session');
    assert.equal(await late.closed, 1000);
  });

  test('a drop is pushed as sts authenticated:false, then the socket is closed with 1000', async (t) => {
    const sim = await startSim(t);
    const probe = openSocket(t, sim, await sessionOf(t, sim));
    await probe.next(topic('sts'));
    await sim.apply({ type: 'drop' });
    const sts = await probe.next((f) => f?.topic === 'sts' && f.args.authenticated === false);
    assert.equal(sts.args.connected, false);
    assert.equal(await probe.closed, 1000);
  });

  test('another login competing is pushed as sts competing:true; the socket stays', async (t) => {
    const sim = await startSim(t);
    const probe = openSocket(t, sim, await sessionOf(t, sim));
    await probe.next(topic('sts'));
    await sim.apply({ type: 'compete', kicked: false });
    const sts = await probe.next((f) => f?.topic === 'sts' && f.args.competing === true);
    assert.equal(sts.args.authenticated, true);
  });

  test(
    'a heartbeat every 10 s of the simulated clock; dropped ' + 'and resumed on request; no replay after a reconnect',
    async (t) => {
      const sim = await startSim(t);
      const session = await sessionOf(t, sim);
      const probe = openSocket(t, sim, session);
      await probe.next(topic('sts'));
      sim.advanceClock(10_000);
      const hb = await probe.next(heartbeat);
      assert.ok(Math.abs(hb.hb - sim.now()) < 60_000, 'the heartbeat carries the gateway time in ms');
      await sim.apply({ type: 'push', action: 'drop-heartbeats' });
      const before = probe.frames.length;
      sim.advanceClock(30_000);
      probe.ws.send('tic');
      await probe.next((f) => f?.topic === 'tic');
      assert.equal(probe.frames.slice(before).filter(heartbeat).length, 0, 'no heartbeat while dropped');
      await sim.apply({ type: 'recover' });
      sim.advanceClock(10_000);
      await probe.next((f) => heartbeat(f) && f.hb >= sim.now() - 1_000);
      await sim.apply({ type: 'push', action: 'close-sockets' });
      assert.equal(await probe.closed, 1001);
      const again = openSocket(t, sim, session);
      await again.next(topic('sts'));
      assert.deepEqual(
        again.frames.map((f: any) => f.topic),
        ['system', 'act', 'sts'],
        'only the current state, nothing replayed',
      );
    },
  );

  test('after about 5 minutes without a tickle the socket dies silently', async (t) => {
    // The brokerage session outlives it here, so what is seen is the socket's death alone.
    const sim = await startSim(t, { settings: { idleTimeoutMs: 3_600_000 } });
    const probe = openSocket(t, sim, await sessionOf(t, sim));
    await probe.next(topic('sts'));
    sim.advanceClock(301_000);
    const before = probe.frames.length;
    probe.ws.send('tic');
    sim.advanceClock(20_000);
    // A fresh socket still answers: the proof that the frames had time to come.
    const other = openSocket(t, sim, await sessionOf(t, sim));
    await other.next(topic('sts'));
    other.ws.send('tic');
    await other.next(topic('tic'));
    assert.deepEqual(probe.frames.slice(before), [], 'no heartbeat, no tic answer, no sts');
    assert.equal(probe.ws.readyState, probe.ws.OPEN, 'and no close either');
  });

  test('upgrades refused on request (503), and 404 Access Denied for a refused address', async (t) => {
    const sim = await startSim(t);
    const session = await sessionOf(t, sim);
    await sim.apply({ type: 'push', action: 'refuse-upgrades' });
    await assert.rejects(openSocket(t, sim, session).opened, /503/);
    await sim.apply({ type: 'push', action: 'accept-upgrades' });
    await openSocket(t, sim, session).opened;
    await sim.apply({ type: 'access-denied' });
    await assert.rejects(openSocket(t, sim, session).opened, /404/);
  });
});
