/**
 * The gateway's process as the keeper starts and ends it: the Java command of its bin/run.sh
 * (bin\run.bat on Windows), the record of a gateway this keeper started (its pid file, so the next
 * start finds one it left), and ending a process group (Windows: its process tree).
 * docs/gateway.md ("Running the gateway") holds the facts used here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { readJsonObject, writeJsonFile } from '../session/json-store.ts';
import type { GatewayFolder } from './folder.ts';

/** The gateway's main class, as run.sh starts it. */
export const GATEWAY_MAIN_CLASS = 'ibgroup.web.core.clientportal.gw.GatewayStart';

/** The program, arguments and working folder that start the gateway as its launcher does. */
export interface LaunchCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** The JVM options both launchers pass. */
const JVM_OPTIONS = [
  '-server',
  '-Dvertx.disableDnsResolver=true',
  '-Djava.net.preferIPv4Stack=true',
  '-Dvertx.logger-delegate-factory-class-name=io.vertx.core.logging.SLF4JLogDelegateFactory',
  '-Dnologback.statusListenerClass=ch.qos.logback.core.status.OnConsoleStatusListener',
  '-Dnolog4j.debug=true',
  '-Dnolog4j2.debug=true',
];

/**
 * `bin/run.sh root/conf.yaml`'s java command, run from the gateway's folder: class path
 * `root:dist/<jar>:build/lib/runtime/*` and `--conf ../root/conf.yaml`. On Windows, `bin\run.bat
 * root\conf.yaml`'s: the class path with `;` and the absolute root folder, and no `--conf`.
 * Java is started directly (not through a shell) so that its pid is the one the keeper watches.
 */
export function launchCommand(
  folder: Pick<GatewayFolder, 'dir' | 'root'>,
  java: string,
  platform: NodeJS.Platform = process.platform,
): LaunchCommand {
  const jar = 'dist/ibgroup.web.core.iblink.router.clientportal.gw.jar';
  if (platform === 'win32') {
    const classpath = [`${folder.root}\\`, jar.replace(/\//g, '\\'), 'build\\lib\\runtime\\*'].join(';');
    return { command: java, args: [...JVM_OPTIONS, '-classpath', classpath, GATEWAY_MAIN_CLASS], cwd: folder.dir };
  }
  return {
    command: java,
    args: [...JVM_OPTIONS, '-cp', `root:${jar}:build/lib/runtime/*`, GATEWAY_MAIN_CLASS, '--conf', '../root/conf.yaml'],
    cwd: folder.dir,
  };
}

/** What the keeper writes when it starts a gateway, read by the next start and by `gateway status|stop`. */
export interface GatewayRecord {
  readonly pid: number;
  readonly startedAt: string;
  readonly dir: string;
  readonly port: number;
  readonly java: string;
  readonly javaVersion: string | undefined;
  readonly consoleLog: string;
}

/** `<config>/gateway/gateway.json`: the gateway this keeper started and has not stopped. */
export function recordFile(configDir: string): string {
  return path.join(configDir, 'gateway', 'gateway.json');
}

export function writeRecord(configDir: string, record: GatewayRecord): void {
  mkdirSync(path.dirname(recordFile(configDir)), { recursive: true, mode: 0o700 });
  writeJsonFile(recordFile(configDir), record);
}

/** The record, or undefined when there is none or it is not one the keeper wrote (it is then removed). */
export function readRecord(configDir: string): GatewayRecord | undefined {
  let value: Record<string, unknown> | undefined;
  try {
    value = readJsonObject(recordFile(configDir));
  } catch {
    value = undefined;
  }
  if (value === undefined) return undefined;
  if (
    typeof value['pid'] !== 'number' ||
    !Number.isInteger(value['pid']) ||
    value['pid'] <= 1 ||
    typeof value['port'] !== 'number' ||
    typeof value['startedAt'] !== 'string'
  ) {
    removeRecord(configDir);
    return undefined;
  }
  return value as unknown as GatewayRecord;
}

export function removeRecord(configDir: string): void {
  rmSync(recordFile(configDir), { force: true });
}

/** True while a process with this pid exists (one we may signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` is alive and, where the system says (Linux's /proc), runs the gateway's main
 * class: a pid reused by another program since is not taken for the gateway.
 */
export function isGatewayProcess(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(GATEWAY_MAIN_CLASS);
  } catch {
    return true; // no /proc (macOS, Windows): alive is all we can tell
  }
}

/**
 * Sends `signal` to the process group led by `pid` (the gateway is started as its own group
 * leader). On Windows there are no groups or signals: `taskkill /T /F` ends the process tree.
 */
export async function signalGroup(
  pid: number,
  signal: 'SIGTERM' | 'SIGKILL',
  platform: NodeJS.Platform = process.platform,
): Promise<void> {
  if (platform === 'win32') {
    await new Promise<void>((resolve) =>
      execFile('taskkill', ['/PID', String(pid), '/T', '/F'], { windowsHide: true }, () => resolve()),
    );
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal); // not a group leader (an older record): the process alone
    } catch {
      // already gone
    }
  }
}

/** True while any process of the group led by `pid` lives (Windows: the process itself). */
export function groupAlive(pid: number, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return processAlive(pid);
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' || processAlive(pid);
  }
}

/**
 * Ends the gateway's group: SIGTERM, then SIGKILL when it still lives after `graceMs` (the
 * gateway ends within a second of SIGTERM). Resolves once no process of the group is left.
 */
export async function endGroup(
  pid: number,
  options: { graceMs: number; platform?: NodeJS.Platform; sleep?: (ms: number) => Promise<void> },
): Promise<'terminated' | 'killed'> {
  const platform = options.platform ?? process.platform;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  await signalGroup(pid, 'SIGTERM', platform);
  for (let waited = 0; waited < options.graceMs; waited += 100) {
    if (!groupAlive(pid, platform)) return 'terminated';
    await sleep(100);
  }
  await signalGroup(pid, 'SIGKILL', platform);
  for (let i = 0; i < 50 && groupAlive(pid, platform); i += 1) await sleep(100);
  return 'killed';
}
