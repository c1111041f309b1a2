/**
 * For `npm run bench`: from a login (the simulator's, with the gateway's `Client login succeeds`
 * line written to a log as the real gateway writes it) to the keeper's `ready`, with the log
 * followed (main/gateway/log-watch.ts: a check at once) and without (the next check at the interval).
 * In virtual time; logins at random moments of the keeper's cycle.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GatewayLogWatcher, gatewayLogFile } from '../../main/gateway/log-watch.ts';
import { Simulator } from '../../main/simulator/server.ts';
import { VirtualTime } from '../../main/simulator/virtual-time.ts';
import { seeded, virtualKeeper } from './rigs.ts';

export async function loginToReady(followLog: boolean, logins: number, intervalMs: number): Promise<number[]> {
  const sim = await Simulator.start({ loggedOut: true });
  const time = new VirtualTime(Date.now(), (ms) => sim.advanceClock(ms));
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-bench-'));
  mkdirSync(path.join(dir, 'logs'));
  const { client, keeper } = virtualKeeper(sim, time, dir, { intervalMs });
  const readyAt: number[] = [];
  keeper.on('transition', (t) => t.state === 'ready' && readyAt.push(time.monotonic()));
  const watcher = new GatewayLogWatcher({
    dir,
    clock: time,
    scheduler: time,
    onEvent: (e) => (e.kind === 'login' ? keeper.checkNow() : undefined),
  });
  if (followLog) watcher.start();
  keeper.start();
  const random = seeded(20261129);
  const latencies: number[] = [];
  await time.runFor(intervalMs);
  for (let i = 0; i < logins; i += 1) {
    await time.runFor(Math.round(random() * intervalMs));
    await sim.apply({ type: 'login' });
    appendFileSync(
      gatewayLogFile(dir, time.wall()),
      `${new Date(time.wall()).toISOString()} INFO  Client login succeeds\n`,
    );
    const at = time.monotonic();
    await time.runFor(2 * intervalMs);
    const ready = readyAt.find((t) => t >= at);
    if (ready !== undefined) latencies.push(ready - at);
    await sim.apply({ type: 'logout' });
    await time.runFor(2 * intervalMs);
  }
  watcher.stop();
  await keeper.stop();
  await client.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
  return latencies;
}
