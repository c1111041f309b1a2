/** Shared test helpers: a simulator per test, temporary config folders, raw HTTPS, the CLI. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { GatewayClient } from '../main/session/gateway-client.ts';
import { fileLedger, memoryLedger } from '../main/session/pacing.ts';
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

/** A temporary folder, removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ibkr-keeper-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A simulator on a free port, stopped after the test. */
export async function startSim(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await Simulator.start(options);
  t.after(() => sim.stop());
  return sim;
}

/** A client of `sim` with its own trust store; the pacer follows the simulator's clock. */
export function clientFor(t: TestContext, sim: Simulator, options: { dir?: string; fileLedger?: boolean } = {}): GatewayClient {
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
  text: string;
  json: unknown;
}

/** One HTTPS request to the simulator, trusting its certificate as a CA (verification on). */
export async function raw(sim: Simulator, method: string, pathname: string, body?: unknown): Promise<RawAnswer> {
  const agent = new Agent({ connect: { ca: [sim.certificatePem] } });
  try {
    const response = await request(`${sim.url}${pathname}`, {
      method: method as 'GET',
      dispatcher: agent,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, json };
  } finally {
    await agent.close();
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ibkr-keeper ARGS` as a process with this Node, as a user would. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
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
