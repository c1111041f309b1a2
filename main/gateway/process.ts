/**
 * The gateway's process as the keeper starts and ends it: the Java command of its bin/run.sh
 * (bin\run.bat on Windows), the record of a gateway this keeper started (its pid file, so the next
 * start finds one it left), and ending a process group (Windows: its process tree).
 * docs/gateway.md ("Running the gateway") holds the facts used here.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * `<config>/gateway/gateway-<port>.json`: the gateway this keeper started on that port and has not
 * stopped. One per port, so that one config folder runs several gateways (other folders, other
 * ports); `gateway/gateway.json`, the single record of earlier versions, is still read.
 */
export function recordFile(configDir: string, port: number): string {
  return path.join(configDir, 'gateway', `gateway-${port}.json`);
}

/** The record earlier versions wrote, for whichever port. */
function legacyRecordFile(configDir: string): string {
  return path.join(configDir, 'gateway', 'gateway.json');
}

/** `<config>/gateway/last.json`: the folder of the last gateway started with this config folder. */
function lastFile(configDir: string): string {
  return path.join(configDir, 'gateway', 'last.json');
}

export function writeRecord(configDir: string, record: GatewayRecord): void {
  mkdirSync(path.dirname(recordFile(configDir, record.port)), { recursive: true, mode: 0o700 });
  writeJsonFile(recordFile(configDir, record.port), record);
  if (readFile(legacyRecordFile(configDir))?.port === record.port) rmSync(legacyRecordFile(configDir), { force: true });
  writeJsonFile(lastFile(configDir), { dir: record.dir, port: record.port, startedAt: record.startedAt });
}

/** The folder of the last gateway started with this config folder (kept after it stopped), if any. */
export function lastStarted(configDir: string): { dir: string; port: number } | undefined {
  let value: Record<string, unknown> | undefined;
  try {
    value = readJsonObject(lastFile(configDir));
  } catch {
    return undefined;
  }
  if (typeof value?.['dir'] !== 'string' || typeof value['port'] !== 'number') return undefined;
  return { dir: value['dir'], port: value['port'] };
}

/** A record file's content when it is one the keeper wrote; a damaged one is removed. */
function readFile(file: string): GatewayRecord | undefined {
  let value: Record<string, unknown> | undefined;
  try {
    value = readJsonObject(file);
  } catch {
    value = undefined;
  }
  if (value === undefined) return undefined;
  if (
    typeof value['pid'] !== 'number' ||
    !Number.isInteger(value['pid']) ||
    value['pid'] <= 1 ||
    typeof value['port'] !== 'number' ||
    typeof value['dir'] !== 'string' ||
    typeof value['startedAt'] !== 'string'
  ) {
    rmSync(file, { force: true });
    return undefined;
  }
  return value as unknown as GatewayRecord;
}

/** The record of the gateway started on `port`, or undefined when there is none. */
export function readRecord(configDir: string, port: number): GatewayRecord | undefined {
  const record = readFile(recordFile(configDir, port));
  if (record !== undefined) return record;
  const legacy = readFile(legacyRecordFile(configDir));
  return legacy?.port === port ? legacy : undefined;
}

/** Every record in the config folder (one per port). */
export function listRecords(configDir: string): GatewayRecord[] {
  const folder = path.join(configDir, 'gateway');
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => /^gateway-\d+\.json$/.test(n) || n === 'gateway.json');
  } catch {
    return [];
  }
  const records = names.map((n) => readFile(path.join(folder, n))).filter((r) => r !== undefined);
  return records.filter((r, i) => records.findIndex((o) => o.port === r.port) === i);
}

/**
 * Removes the record of the gateway on `port`; with `pid`, only while it still names that pid (a
 * record written since by another start, `gateway start` from another terminal, is not touched).
 */
export function removeRecord(configDir: string, port: number, pid?: number): void {
  for (const file of [recordFile(configDir, port), legacyRecordFile(configDir)]) {
    const record = readFile(file);
    if (record !== undefined && record.port === port && (pid === undefined || record.pid === pid))
      rmSync(file, { force: true });
  }
}

/** True when the record was written for the gateway in `dir` (a folder named the same way or not). */
export function recordOf(record: GatewayRecord, dir: string): boolean {
  return path.resolve(record.dir) === path.resolve(dir);
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
 * True when `pid` is alive and its command line runs the gateway's main class: a pid reused by
 * another program since (a reboot, a stale record) is never taken for the gateway, and so never
 * signalled. The command line comes from /proc (Linux), else `ps` (macOS), else (Windows) from
 * PowerShell; a process whose command line cannot be read is not taken for the gateway.
 */
export function isGatewayProcess(pid: number, options: { procfs?: boolean } = {}): boolean {
  if (!processAlive(pid)) return false;
  return commandLine(pid, options.procfs ?? true)?.includes(GATEWAY_MAIN_CLASS) ?? false;
}

function commandLine(pid: number, procfs: boolean): string | undefined {
  if (procfs) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      // no /proc: ask the system
    }
  }
  const [command, args] =
    process.platform === 'win32'
      ? [
          'powershell.exe',
          ['-NoProfile', '-Command', `(Get-CimInstance Win32_Process -Filter "ProcessId=${pid}").CommandLine`],
        ]
      : ['ps', ['-ww', '-o', 'args=', '-p', String(pid)]];
  try {
    return execFileSync(command, args, { encoding: 'latin1', timeout: 5_000, windowsHide: true });
  } catch {
    return undefined;
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
