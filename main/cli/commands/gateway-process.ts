/**
 * The work of `ibkr-keeper gateway start|stop|restart|status|logs` (registered in gateway.ts,
 * loaded when one of them runs): the gateway's process, owned by the keeper through its pid file
 * (main/gateway/process.ts) and supervised by main/gateway/supervisor.ts. `gateway start` leaves
 * the gateway running when the command ends; `watch --run-gateway` keeps it alive instead.
 */
import { createReadStream, existsSync, statSync, watchFile, unwatchFile } from 'node:fs';
import path from 'node:path';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { UserError } from '../../session/errors.ts';
import { SettingsFile } from '../../session/settings.ts';
import { localTimestamp, realClock, realScheduler } from '../../session/time.ts';
import { gatewayUrl, openGatewayFolder } from '../../gateway/conf.ts';
import { consoleLogFile, lastLines, parseBanner, readFrom } from '../../gateway/console-log.ts';
import { gatewayLogFile } from '../../gateway/log-watch.ts';
import { probePort } from '../../gateway/port.ts';
import { liveSupervision } from '../../gateway/process-facts.ts';
import {
  endGroup,
  isGatewayProcess,
  lastStarted,
  listRecords,
  readRecord,
  recordOf,
  removeRecord,
  type GatewayRecord,
} from '../../gateway/process.ts';
import { GatewaySupervisor, type GatewayFacts } from '../../gateway/supervisor.ts';
import { STATE_INFO } from '../../session/states.ts';

/** The options `gateway start|stop|restart|status|logs` share. */
export interface ProcessOptions {
  dir?: string;
  configDir?: string;
  json?: boolean;
  follow?: boolean;
  lines?: number;
  gatewayLog?: boolean;
}

/** Exit code when the gateway does not run or did not start: gateway-down's. */
const DOWN = STATE_INFO['gateway-down'].exitCode;

const out = (options: ProcessOptions, line: string, json: Record<string, unknown>): void => {
  process.stdout.write(options.json ? `${JSON.stringify({ time: new Date().toISOString(), ...json })}\n` : `${line}\n`);
};

/** The gateway a command acts on: its folder, its port, and the record of it, when this config folder started it. */
interface Target {
  readonly dir: string;
  readonly port: number;
  readonly record: GatewayRecord | undefined;
}

/**
 * The gateway: --dir's; else the one gateway this config folder runs (several: --dir says which);
 * else the folder of the last gateway started with this config folder (said on stderr); else the
 * setting gatewayDir. Undefined when there is none and `required` is false.
 */
function targetOf(options: ProcessOptions, configDir: string, required: boolean): Target | undefined {
  const inFolder = (dir: string): Target => {
    const port = openGatewayFolder(dir).conf.config.listenPort;
    return { dir, port, record: readRecord(configDir, port) };
  };
  if (options.dir !== undefined) return inFolder(options.dir);
  const running = listRecords(configDir).filter((r) => isGatewayProcess(r.pid));
  if (running.length === 1) return { dir: running[0]!.dir, port: running[0]!.port, record: running[0] };
  if (running.length > 1)
    throw new UserError(
      `${running.length} gateways run from this config folder ` +
        `(${running.map((r) => `${r.dir} on port ${r.port}`).join('; ')}): say which with --dir GATEWAY_DIR.`,
    );
  const last = lastStarted(configDir);
  if (last !== undefined) {
    if (!options.json) process.stderr.write(`Gateway folder: ${last.dir} (the last one started; --dir for another).\n`);
    return inFolder(last.dir);
  }
  // A settings.json that cannot be read is named (exit 2), not taken for "no folder set".
  const setting = SettingsFile.open(configDir).read().settings.gatewayDir;
  if (setting !== null) return inFolder(setting);
  if (!required) return undefined;
  throw new UserError(
    "Give the gateway's folder: --dir GATEWAY_DIR (where bin/run.sh and root/conf.yaml are), or set it once " +
      "in the app's settings (gatewayDir).",
  );
}

/** Runs one command, printing a UserError as elsewhere (and in --json as `{error}`). */
async function guarded(options: ProcessOptions, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    if (options.json)
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), error: error.message })}\n`);
    process.stderr.write(`ibkr-keeper: ${error.message}\n`);
    return error.exitCode;
  }
}

function describeFacts(f: GatewayFacts): string {
  const details = [
    f.pid === undefined ? undefined : `pid ${f.pid}`,
    f.build && `build ${f.build}`,
    f.javaVersion && `Java ${f.javaVersion}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${f.state}: ${f.reason}${details ? ` (${details})` : ''}`;
}

async function startOnce(options: ProcessOptions, configDir: string): Promise<number> {
  const { dir } = targetOf(options, configDir, true)!;
  const sup = new GatewaySupervisor({ dir, configDir, clock: realClock, scheduler: realScheduler, keepAlive: false });
  sup.on('log', (line) => {
    // The attach is the command's answer on stdout: not said twice.
    const now = sup.facts();
    if (options.json || (now.state === 'attached' && line === `Gateway: ${now.reason}.`)) return;
    process.stderr.write(`${line}\n`);
  });
  const facts = await sup.start();
  // The command ends here; the gateway goes on (its console still goes to the console log).
  const ok = facts.state === 'running' || facts.state === 'attached';
  if (ok) sup.release();
  const lines = [describeFacts(facts)];
  if (ok)
    lines.push(
      `  log in      ${facts.url} (ibkr-keeper login opens it)`,
      // An attached gateway's console is wherever it was started.
      ...(facts.state === 'attached' ? [] : [`  console     ${facts.consoleLog}`]),
      `  its log     ${facts.gatewayLog}`,
    );
  else if (facts.lastExit) lines.push(...facts.lastExit.lastLines.slice(-5).map((l) => `  | ${l}`));
  out(options, lines.join('\n'), { ...facts, ok });
  return ok ? 0 : DOWN;
}

export function runGatewayStart(options: ProcessOptions): Promise<number> {
  return guarded(options, () => startOnce(options, resolveConfigDir(options.configDir)));
}

/** Stops the gateway this keeper started; one it did not start is named, not stopped. */
async function stopOnce(
  options: ProcessOptions,
  configDir: string,
): Promise<{ code: number; line: string; json: Record<string, unknown> }> {
  const target = targetOf(options, configDir, false);
  const record = target?.record;
  if (record !== undefined && isGatewayProcess(record.pid)) {
    if (!recordOf(record, target!.dir))
      throw new UserError(
        `The gateway on port ${record.port} was started from ${record.dir}, not ${target!.dir}: ` +
          `give --dir ${record.dir} to stop it.`,
      );
    // The pid file first: a keeper supervising it (watch --run-gateway) then knows the exit is a stop.
    removeRecord(configDir, record.port, record.pid);
    const how = await endGroup(record.pid, { graceMs: 10_000 });
    return {
      code: 0,
      line:
        `Stopped the gateway (pid ${record.pid}, ` +
        `started ${localTimestamp(record.startedAt)})${
          how === 'killed' ? ': it ignored SIGTERM for 10 s and was killed' : ''
        }.`,
      json: { stopped: true, pid: record.pid, how },
    };
  }
  // It ended while nobody watched, or its pid is another program's now (a reboot): never signalled.
  if (record !== undefined) removeRecord(configDir, record.port, record.pid);
  const stale = record === undefined ? '' : ` (its record named pid ${record.pid}, which is not the gateway: removed)`;
  const port = target?.port;
  if (port !== undefined && (await probePort(port)) === 'tls') {
    throw new UserError(
      `A gateway listens on port ${port}, but ibkr-keeper did not start it: stop it where it was started ` +
        `(Ctrl+C in its terminal).`,
    );
  }
  return { code: 0, line: `No gateway started by ibkr-keeper is running${stale}.`, json: { stopped: false } };
}

export function runGatewayStop(options: ProcessOptions): Promise<number> {
  return guarded(options, async () => {
    const result = await stopOnce(options, resolveConfigDir(options.configDir));
    out(options, result.line, result.json);
    return result.code;
  });
}

export function runGatewayRestart(options: ProcessOptions): Promise<number> {
  return guarded(options, async () => {
    const configDir = resolveConfigDir(options.configDir);
    const { dir } = targetOf(options, configDir, true)!;
    const stopped = await stopOnce({ ...options, dir }, configDir);
    process.stderr.write(`${stopped.line}\n`);
    return startOnce({ ...options, dir }, configDir);
  });
}

/** What runs now, from the pid file, the port and the console log: for a person or `--json`. */
export function runGatewayStatus(options: ProcessOptions): Promise<number> {
  return guarded(options, async () => {
    const configDir = resolveConfigDir(options.configDir);
    const { dir, port, record } = targetOf(options, configDir, true)!;
    const { conf } = openGatewayFolder(dir);
    const owned = record !== undefined && recordOf(record, dir) && isGatewayProcess(record.pid);
    const listening = await probePort(port);
    const consoleLog = consoleLogFile(configDir, port);
    const banner = owned ? parseBanner(readFrom(consoleLog, 0)) : undefined;
    const state = listening === 'tls' ? (owned ? 'running' : 'attached') : owned ? 'not-listening' : 'stopped';
    const reason = {
      running: `the gateway ibkr-keeper started listens on port ${port}`,
      attached: `a gateway listens on port ${port}; ibkr-keeper did not start it`,
      'not-listening': `the gateway ibkr-keeper started runs but does not listen on port ${port} (yet)`,
      stopped:
        listening === 'free'
          ? `no gateway runs on port ${port}`
          : `port ${port} is taken by another program (${listening})`,
    }[state];
    // A keeper that supervises this gateway now (watch --run-gateway, the app) knows its restarts.
    const supervision = liveSupervision(configDir, port);
    const supervised = supervision !== undefined && path.resolve(supervision.facts.dir) === path.resolve(dir);
    const facts = {
      state,
      reason,
      dir,
      url: gatewayUrl(conf.config),
      port,
      owned,
      pid: owned ? record.pid : undefined,
      startedAt: owned ? record.startedAt : undefined,
      javaVersion: owned ? record.javaVersion : undefined,
      build: banner?.build,
      buildDate: banner?.buildDate,
      consoleLog,
      gatewayLog: gatewayLogFile(dir, Date.now()),
      restarts: supervised ? supervision.facts.restarts : 0,
      lastExit: supervised ? (supervision.facts.lastExit ?? null) : null,
      supervisedBy: supervised ? { program: supervision.program, pid: supervision.pid } : null,
    };
    const details = [
      facts.pid && `pid ${facts.pid}`,
      facts.startedAt && `since ${localTimestamp(facts.startedAt)}`,
      facts.supervisedBy &&
        `${facts.restarts} restart${facts.restarts === 1 ? '' : 's'} by ${facts.supervisedBy.program} ` +
          `(pid ${facts.supervisedBy.pid})`,
      facts.build && `build ${facts.build}`,
      facts.javaVersion && `Java ${facts.javaVersion}`,
    ];
    const line = [
      `${state}: ${reason}${details.some(Boolean) ? ` (${details.filter(Boolean).join(', ')})` : ''}`,
      `  address     ${facts.url}`,
      `  console     ${consoleLog}`,
      `  its log     ${facts.gatewayLog}`,
    ];
    out(options, line.join('\n'), facts);
    return listening === 'tls' ? 0 : DOWN;
  });
}

/** The console log's last lines (or the gateway's own log of today with --gateway-log); --follow goes on. */
export function runGatewayLogs(options: ProcessOptions): Promise<number> {
  return guarded(options, async () => {
    const configDir = resolveConfigDir(options.configDir);
    const { dir, port } = targetOf(options, configDir, true)!;
    const file = options.gatewayLog ? gatewayLogFile(dir, Date.now()) : consoleLogFile(configDir, port);
    if (!existsSync(file) && !options.follow) {
      throw new UserError(
        `${file} does not exist yet: ${
          options.gatewayLog
            ? 'the gateway has written no log today'
            : 'ibkr-keeper has not started the gateway with this config folder'
        }.`,
      );
    }
    const text = readFrom(file, 0);
    const tail = lastLines(text, options.lines ?? 50);
    if (tail.length > 0) process.stdout.write(`${tail.join('\n')}\n`);
    if (!options.follow) return 0;
    let offset = existsSync(file) ? statSync(file).size : 0;
    const follow = (): void => {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size < offset) offset = 0;
      if (size === offset) return;
      createReadStream(file, { start: offset, end: size - 1 }).pipe(process.stdout, { end: false });
      offset = size;
    };
    watchFile(file, { interval: 250 }, follow);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolve);
    });
    unwatchFile(file);
    return 0;
  });
}
