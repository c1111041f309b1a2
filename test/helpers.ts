/** Shared test helpers: a simulator per test, temporary config folders, raw HTTPS, the CLI. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import https from 'node:https';
import { GatewayClient } from '../main/session/gateway-client.ts';
import { fileLedger, memoryLedger } from '../main/session/pacing.ts';
import { PinnedAgent } from '../main/session/tls.ts';
import { TrustStore } from '../main/session/trust-store.ts';
import { Simulator, type SimulatorOptions } from '../main/simulator/server.ts';

/** The repository root (tests run from dist/test/...). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What a person (or another program) might leave in a state file: valid JSON, not the keeper's. */
export const NOT_OURS: Array<[string, string]> = [
  ['a list', '[]'],
  ['null', 'null'],
  ['a number', '42'],
  ['a string', '"x"'],
  ['the wrong shape', '{"version":1,"pins":[],"origins":[],"attempts":{}}'],
];

/** Folders a test could not remove at its end (a process it started still writing): removed at exit. */
const leftovers = new Set<string>();
process.once('exit', () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/**
 * A temporary folder, removed after the test. The removal never throws: a hook that threw would
 * keep the test's later hooks (those that stop the processes it started) from running.
 */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-test-'));
  t.after(() => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      leftovers.add(dir);
    }
  });
  return dir;
}

/** A simulator on a free port, stopped after the test. */
export async function startSim(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await Simulator.start(options);
  t.after(() => sim.stop());
  return sim;
}

/** A client of `sim` with its own trust store; the pacer follows the simulator's clock. */
export function clientFor(
  t: TestContext,
  sim: Simulator,
  options: { dir?: string; fileLedger?: boolean } = {},
): GatewayClient {
  const dir = options.dir ?? tempDir(t);
  const client = new GatewayClient({
    gateway: sim.url,
    trust: new TrustStore(dir),
    pacing: options.fileLedger ? fileLedger(dir) : memoryLedger(),
    now: () => sim.now(),
    timeoutMs: 3_000,
  });
  t.after(() => client.close());
  return client;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The header lines as sent: names in their case, in their order. */
  rawHeaders: string[];
  text: string;
  json: unknown;
}

/** A gateway `raw` can reach: its address and the fingerprint of its certificate. */
export interface RawTarget {
  readonly url: string;
  readonly fingerprint256: string;
}

/**
 * One HTTPS request to a gateway (the simulator or the real one), through the project's pinned
 * connection: the certificate is accepted by its fingerprint alone, as the keeper accepts IBKR's
 * expired one. Rejects when nothing answered within `timeoutMs` (default 5 s). `keepAlive` sends
 * `Connection: keep-alive` as the keeper's client does; otherwise `Connection: close`.
 */
export function raw(
  target: RawTarget,
  method: string,
  pathname: string,
  body?: unknown,
  options: { timeoutMs?: number; keepAlive?: boolean } = {},
): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const agent = new PinnedAgent(target.fingerprint256, { timeoutMs, keepAlive: options.keepAlive ?? false });
  return new Promise<RawAnswer>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      `${target.url}${pathname}`,
      {
        method,
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (!res.complete) return reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  }).finally(() => agent.destroy());
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ibkr-keeper ARGS` as a process with this Node, as a user would. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/ibkr-keeper.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ibkr-keeper ${args.join(' ')} did not finish in time; stdout: ${stdout} stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `ibkr-keeper ARGS` (watch, simulate) with what it printed so far; killed after the test. */
export function spawnCli(
  t: TestContext,
  args: string[],
): {
  child: import('node:child_process').ChildProcessByStdio<
    null,
    import('node:stream').Readable,
    import('node:stream').Readable
  >;
  stdout(): string;
  stderr(): string;
} {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/ibkr-keeper.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** One regular expression written in pieces, so that a long expected message fits in 120 columns. */
export function pattern(...parts: RegExp[]): RegExp {
  return new RegExp(parts.map((part) => part.source).join(''));
}
