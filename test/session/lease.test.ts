/**
 * One keeper per gateway, in one process and across processes: the lease (an operating-system
 * lock), who holds it, release on any end of the holder (kill -9 included), and the ledger lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { withFileLock } from '../../main/session/file-lock.ts';
import { GatewayLease, leaseName } from '../../main/session/lease.ts';
import { fileLedger, Pacer } from '../../main/session/pacing.ts';
import { ROOT, tempDir } from '../helpers.ts';

const ORIGIN = 'https://127.0.0.1:5000';

describe('gateway lease', () => {
  test('the first takes it, a second sees who holds it, and gets it once it is given up', (t) => {
    const dir = tempDir(t);
    const first = new GatewayLease({ configDir: dir, origin: ORIGIN, program: 'watch' });
    const second = new GatewayLease({ configDir: dir, origin: ORIGIN, program: 'desktop' });
    t.after(() => [first, second].forEach((l) => l.release()));
    assert.equal(first.tryAcquire(), true);
    assert.equal(first.tryAcquire(), true, 'holding it already');
    assert.equal(second.tryAcquire(), false);
    assert.deepEqual(second.read()?.holder, { pid: process.pid, program: 'watch', since: first.self.since });
    const other = new GatewayLease({ configDir: dir, origin: 'https://127.0.0.1:5001', program: 'desktop' });
    t.after(() => other.release());
    assert.equal(other.tryAcquire(), true, 'another gateway has a lease of its own');
    first.release();
    assert.equal(existsSync(first.statePath), false, 'the state file goes with the lease');
    assert.equal(second.tryAcquire(), true);
    assert.equal(second.read()?.holder.program, 'desktop');
  });

  test('lease names are safe file names and unique per origin', () => {
    assert.match(leaseName('https://127.0.0.1:5000'), /^https-127\.0\.0\.1-5000-[0-9a-f]{8}$/);
    assert.notEqual(leaseName('https://[::1]:5000'), leaseName('https://[1::]:5000'));
    assert.match(leaseName('https://[::1]:5000'), /^[A-Za-z0-9.-]+$/);
  });

  test('a holder killed with SIGKILL leaves the lease free at once; its stale state file is overwritten', async (t) => {
    const dir = tempDir(t);
    const script =
      `
      const { GatewayLease } = await import(${JSON.stringify(path.join(ROOT, 'dist/main/session/lease.js'))});
      const lease = new GatewayLease({ configDir: ${JSON.stringify(dir)}, ` +
      `origin: ${JSON.stringify(ORIGIN)}, program: 'watch' });
      console.log(lease.tryAcquire() ? 'held' : 'not held');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => child.kill('SIGKILL'));
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    assert.equal(line, 'held');
    const mine = new GatewayLease({ configDir: dir, origin: ORIGIN, program: 'desktop' });
    t.after(() => mine.release());
    assert.equal(mine.tryAcquire(), false, 'held by the other process');
    assert.equal(mine.read()?.holder.pid, child.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(existsSync(mine.statePath), true, 'the killed holder could not clean up');
    assert.equal(mine.tryAcquire(), true, 'the system released the lock with the process');
    assert.equal(mine.read()?.holder.pid, process.pid, 'the stale state is replaced');
  });
});

describe('pacing ledger lock', () => {
  test('claims from many ledgers on one file never exceed the limits, and the lock is re-entrant', (t) => {
    const dir = tempDir(t);
    let now = 1_000_000;
    const pacers = Array.from({ length: 8 }, () => new Pacer(fileLedger(dir), ORIGIN, () => now));
    const sent: number[] = [];
    for (let step = 0; step < 40; step += 1, now += 100) {
      for (const pacer of pacers) {
        const at = pacer.claim('authStatus');
        if (at === undefined) continue;
        sent.push(now);
        pacer.recordDone('authStatus', at);
      }
    }
    for (const at of sent)
      assert.ok(sent.filter((t2) => t2 > at - 1_000 && t2 <= at).length <= 5, 'at most 5 in any second');
    assert.equal(sent.length, 20, '5 a second for 4 seconds');
    // A request still in flight (of another process, here: not answered) holds its place in the second.
    const other = new Pacer(fileLedger(dir), ORIGIN, () => now, process.pid);
    now += 1_000;
    for (let i = 0; i < 5; i += 1) assert.notEqual(other.claim('authStatus'), undefined);
    now += 5_000;
    const third = new Pacer(fileLedger(dir), ORIGIN, () => now);
    assert.equal(
      third.claim('authStatus'),
      undefined,
      "another's five in flight: none more, however long ago they went out",
    );
    assert.equal(third.claim('tickle'), undefined);
    assert.equal(
      withFileLock(path.join(dir, 'x.lock'), () => withFileLock(path.join(dir, 'x.lock'), () => 42)),
      42,
    );
    assert.match(readFileSync(path.join(dir, 'pacing.json'), 'utf8'), /"version": 1/);
  });
});
