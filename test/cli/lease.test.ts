/**
 * One keeper per gateway, end to end with real processes against the simulator: two `watch` on
 * one config folder (one keeps, the other follows, no rate-limit violation, the follower takes
 * over from a holder killed with SIGKILL), and 4 waves of 50 `status` processes at once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, runCli, startSim, tempDir } from '../helpers.ts';

interface Watch {
  child: ChildProcessWithoutNullStreams;
  lines: any[];
  stderr: () => string;
}

function watch(t: TestContext, args: string[]): Watch {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/ibkr-keeper.js'), 'watch', '--json', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const w: Watch = { child, lines: [], stderr: () => stderr };
  createInterface({ input: child.stdout }).on('line', (line) => w.lines.push(JSON.parse(line)));
  return w;
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

describe('one keeper per gateway', () => {
  test(
    'two watch on one folder for 90 s: one tickles, the other follows it; no rate-limit violation; kill -9 ' +
      'the holder and the follower takes over',
    async (t) => {
      const sim = await startSim(t);
      const dir = tempDir(t);
      // Started together, as the desktop app and `watch` at login: they used to tickle 1-18 ms apart.
      const args = ['--interval', '2', '--gateway', sim.url, '--config-dir', dir];
      const both = [watch(t, args), watch(t, args)];
      await until('both show the session ready', () => both.every((w) => w.lines.some((l) => l.state === 'ready')));
      await until('one says it follows the other', () => both.some((w) => /Following pid \d+/.test(w.stderr())));
      const follower = both.find((w) => /Following pid \d+/.test(w.stderr()))!;
      const holder = both.find((w) => w !== follower)!;
      assert.match(
        follower.stderr(),
        new RegExp(
          `Following pid ${holder.child.pid} \\(ibkr-keeper watch\\), which has kept the session ` +
            `of ${sim.url.replace(/\./g, '\\.')} since .*: this one sends nothing and takes over when it stops\\.`,
        ),
      );
      assert.doesNotMatch(holder.stderr(), /Following/);
      assert.equal(
        follower.lines.find((l) => l.state === 'ready').following.pid,
        holder.child.pid,
        'its JSON lines name the keeper it follows',
      );

      const seq = sim.requests().at(-1)!.seq;
      // 90 s side by side, as the issue asks: one keeper's tickles (about 45), not two keepers' (about 90).
      await sleep(90_000);
      const tickles = sim.requests(seq).filter((r) => r.path === '/v1/api/tickle').length;
      assert.ok(
        tickles >= 38 && tickles <= 50,
        `one keeper's tickles every 2 s for 90 s, not two keepers': ${tickles}`,
      );
      assert.equal(sim.limiter.violations, 0);

      holder.child.kill('SIGKILL');
      await once(holder.child, 'exit');
      await until(
        'the follower takes over',
        () => /pid \d+ \(ibkr-keeper watch\) stopped: this process keeps the session/.test(follower.stderr()),
        5_000,
      );
      const after = sim.requests().at(-1)?.seq ?? 0;
      await sleep(5_000);
      assert.ok(sim.requests(after).filter((r) => r.path === '/v1/api/tickle').length >= 2, 'it tickles now');
      assert.equal(sim.limiter.violations, 0);
      assert.equal(sim.maxInFlight, 1);
      follower.child.kill('SIGTERM');
      const [code] = await once(follower.child, 'exit');
      assert.equal(code, 0);
    },
  );

  test('4 waves of 50 status processes at once: all ready, no rate-limit violation', async (t) => {
    const sim = await startSim(t);
    const dir = tempDir(t);
    // The first run trusts the certificate; the 200 after it share trust.json and pacing.json.
    assert.equal((await runCli(['status', '--gateway', sim.url, '--config-dir', dir])).code, 0);
    const codes: Array<number | null> = [];
    for (let wave = 0; wave < 4; wave += 1) {
      const runs = Array.from({ length: 50 }, () =>
        runCli(['status', '--json', '--gateway', sim.url, '--config-dir', dir, '--timeout', '60'], {
          timeoutMs: 120_000,
        }),
      );
      for (const result of await Promise.all(runs)) {
        codes.push(result.code);
        if (result.code !== 0) assert.fail(`status exited ${result.code}: ${result.stdout} ${result.stderr}`);
      }
    }
    assert.equal(codes.length, 200);
    assert.equal(sim.limiter.violations, 0);
    assert.ok((sim.counts()['/v1/api/iserver/auth/status'] ?? 0) >= 201);
    assert.ok((sim.counts()['/v1/api/sso/validate'] ?? 0) <= 2, 'the login is validated at most once a minute');
  });
});
