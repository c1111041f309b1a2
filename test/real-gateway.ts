/**
 * IBKR's real Client Portal Gateway for tests: copied from `../shared/ibkr-gateway` (beside the
 * repository; `$IBKR_GATEWAY_SOURCE` overrides) into a temporary folder, given a free port, started
 * as its `bin/run.sh` starts it in a process group of its own, ready when the port completes a
 * TLS handshake, and stopped by that process group whatever happens (docs/gateway.md says what
 * it does here: it cannot reach IBKR, so nobody logs in).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listRecords } from '../main/gateway/process.ts';
import { probeCertificate } from '../main/session/tls.ts';
import { ROOT } from './helpers.ts';

/** Where IBKR's gateway is, as IBKR distributes it. */
export const GATEWAY_SOURCE = process.env['IBKR_GATEWAY_SOURCE'] ?? path.resolve(ROOT, '../shared/ibkr-gateway');

/** SHA-256 of the certificate every download of the gateway ships (root/vertx.jks). */
export const STOCK_FINGERPRINT =
  '13:DA:F8:9A:07:12:B9:62:C3:EC:AA:5E:DE:34:41:00:AE:E0:D3:B5:DE:C5:A7:9A:BD:76:02:A8:12:ED:A3:BE';

/** Every gateway process group a test started and has not stopped yet: killed at exit, whatever happened. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** What cleans up after a test: a test's context, or a `Scope` shared by a suite's tests. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** Cleanups for a suite that shares one gateway: `after(() => scope.run())` in the suite. */
export class Scope implements Cleanup {
  readonly #fns: Array<() => unknown> = [];
  after(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) await fn();
  }
}

/**
 * Kills, after the test, every process group whose pid it was given (a gateway a test had started),
 * and (`note.pidFileIn(configDir)`) those the keeper's pid files name there when the test ends: a
 * gateway started by a spawned `watch --run-gateway`, ended even when the test failed before it
 * learnt the pid. Call it first in the test, so that it runs before the folders are removed.
 */
export function reaper(t: Cleanup): ((pid: number | undefined) => void) & { pidFileIn: (configDir: string) => void } {
  const pids = new Set<number>();
  const configDirs = new Set<string>();
  t.after(() => {
    for (const dir of configDirs) {
      for (const record of listRecords(dir)) pids.add(record.pid);
    }
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });
  const note = (pid: number | undefined): void => void (pid !== undefined && pids.add(pid));
  return Object.assign(note, { pidFileIn: (configDir: string) => void configDirs.add(configDir) });
}

/** A free TCP port on 127.0.0.1 (free when asked; the gateway takes it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A copy of the gateway's folder, writable, with `listenPort` set; removed after the test. */
export function copyGateway(t: Cleanup, port: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-gateway-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(GATEWAY_SOURCE, dir, { recursive: true });
  chmodRecursive(dir);
  editConf(dir, (text) => text.replace(/^listenPort:.*$/m, `listenPort: ${port}`));
  return dir;
}

/** Rewrites `root/conf.yaml` of a gateway folder. */
export function editConf(dir: string, edit: (text: string) => string): void {
  const file = path.join(dir, 'root/conf.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

function chmodRecursive(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chmodRecursive(full);
    else chmodSync(full, 0o644);
  }
}

export interface RealGateway {
  readonly dir: string;
  readonly port: number;
  /** `https://localhost:PORT`, as a user types it. */
  readonly url: string;
  /** The process group (bash running bin/run.sh, and its java). */
  readonly pgid: number;
  /** What the gateway printed so far (stdout and stderr). */
  output(): string;
  /** Stops the whole process group: SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * Starts the gateway in `dir` (see `copyGateway`) as `bin/run.sh root/conf.yaml` does, and waits
 * until its port completes a TLS handshake (at most `readyWithinMs`). Stopped after the test.
 */
export async function startGateway(
  t: Cleanup,
  dir: string,
  options: { readyWithinMs?: number } = {},
): Promise<RealGateway> {
  const port = Number(/^listenPort:\s*(\d+)/m.exec(readFileSync(path.join(dir, 'root/conf.yaml'), 'utf8'))?.[1]);
  const child: ChildProcess = spawn('bash', ['bin/run.sh', 'root/conf.yaml'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid!;
  running.add(pgid);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (!running.has(pgid)) return;
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(-pgid, name);
      } catch {
        // the group is gone
      }
    };
    signal('SIGTERM');
    const killed = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) signal('SIGKILL');
    await sleep(50);
    // java may outlive bash for a moment: the group must be empty before the port is reused.
    for (let i = 0; i < 50 && groupAlive(pgid); i += 1) {
      if (i === 20) signal('SIGKILL');
      await sleep(100);
    }
    running.delete(pgid);
  };
  t.after(stop);
  const deadline = Date.now() + (options.readyWithinMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`the gateway exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway was not ready within ${options.readyWithinMs ?? 60_000} ms:\n${output}`);
    }
    try {
      await probeCertificate('127.0.0.1', port, 1_000);
      break;
    } catch {
      await sleep(200);
    }
  }
  return { dir, port, url: `https://localhost:${port}`, pgid, output: () => output, stop };
}

/** True while any process of the group lives. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
