/**
 * `GET /events` of the health server: every change of state as Server-Sent Events, the same JSON
 * as `watch --json`, bounded, read-only, loopback only. A drop pushed by the gateway reaches a
 * listener before the keeper's next tickle.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { HealthServer, MAX_EVENT_LISTENERS } from '../../main/cli/health-server.ts';
import { keeperRig } from '../keeper-harness.ts';
import { ROOT, startSim, tempDir } from '../helpers.ts';

interface Listener {
  readonly status: number;
  readonly events: any[];
  readonly response: http.IncomingMessage;
}

/** Opens `/events` and collects the `data:` of every event. */
function listen(t: TestContext, url: string, headers: Record<string, string> = {}): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/events`, { headers }, (response) => {
      const listener: Listener = { status: response.statusCode ?? 0, events: [], response };
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data !== '') listener.events.push(JSON.parse(data));
        }
      });
      response.on('error', () => undefined);
      resolve(listener);
    });
    req.on('error', reject);
    t.after(() => req.destroy());
  });
}

async function until(condition: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (condition()) return;
    await sleep(10);
  }
  assert.fail(`never: ${what}`);
}

describe('health server /events', () => {
  test(
    'a drop pushed by the gateway reaches a listener ' + 'before the next tickle, as watch --json prints it',
    async (t) => {
      const rig = await keeperRig(t, { push: true });
      await rig.time.runFor(1_000);
      await until(() => rig.push!.state === 'open', 'push open');
      const health = await HealthServer.start(rig.keeper, 0);
      t.after(() => health.stop());
      const listener = await listen(t, health.url);
      assert.equal(listener.status, 200);
      assert.match(String(listener.response.headers['content-type']), /^text\/event-stream/);
      const seq = rig.seq();
      await rig.sim.apply({ type: 'drop' });
      await until(() => listener.events.some((e) => e.state === 'not-authenticated'), 'the drop delivered');
      assert.equal(rig.count('/tickle', seq), 0, 'before the next tickle');
      const event = listener.events.find((e) => e.state === 'not-authenticated');
      assert.equal(event.previous, 'ready');
      assert.equal(event.gateway, rig.sim.url);
      assert.deepEqual(Object.keys(event).sort(), ['facts', 'gateway', 'previous', 'reason', 'state', 'time']);
    },
  );

  test('bounded, read-only, loopback Host only', async (t) => {
    const rig = await keeperRig(t);
    await rig.time.runFor(1_000);
    const health = await HealthServer.start(rig.keeper, 0);
    t.after(() => health.stop());
    const open: Listener[] = [];
    for (let i = 0; i < MAX_EVENT_LISTENERS; i += 1) open.push(await listen(t, health.url));
    assert.ok(open.every((l) => l.status === 200));
    await until(() => health.listeners === MAX_EVENT_LISTENERS, 'all listening');
    const refused = await listen(t, health.url);
    assert.equal(refused.status, 503);
    open[0]!.response.destroy();
    await until(() => health.listeners === MAX_EVENT_LISTENERS - 1, 'a place freed');
    assert.equal((await listen(t, health.url)).status, 200);
    const foreign = await listen(t, health.url, { host: 'evil.example:80' });
    assert.equal(foreign.status, 403);
    const post = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${health.url}/events`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(post, 405);
  });

  test(
    'watch --health-port: the same change of state on stdout (--json) and on /events, pushed at once at the ' +
      'default interval',
    async (t) => {
      const sim = await startSim(t, { settings: { reauthLatencyMs: 1_000 } });
      const dir = tempDir(t);
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'bin/ibkr-keeper.js'),
          'watch',
          '--json',
          '--gateway',
          sim.url,
          '--config-dir',
          dir,
          '--health-port',
          '0',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      t.after(() => child.kill('SIGKILL'));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines: any[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
      await until(
        () => lines.some((l) => l.state === 'ready') && /Health: http/.test(stderr),
        'ready, with health',
        3_000,
      );
      await until(() => sim.push.snapshot()['sockets'] === 1, 'the socket held', 3_000);
      const url = /Health: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
      const listener = await listen(t, url);
      const seq = sim.requests().at(-1)!.seq;
      await sim.apply({ type: 'drop' });
      await until(
        () => listener.events.length > 0 && lines.some((l) => l.state === 'not-authenticated'),
        'the drop on stdout and /events',
        3_000,
      );
      assert.deepEqual(
        listener.events[0],
        lines.find((l) => l.state === 'not-authenticated'),
      );
      assert.equal(
        sim.requests(seq).filter((r) => r.path === '/v1/api/tickle').length,
        0,
        'heard before the next tickle (60 s)',
      );
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  );
});
