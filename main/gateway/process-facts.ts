/**
 * The gateway's process facts beside the session's state, as `gatewayProcess` in
 * `ibkr-keeper status --json` and in `watch --run-gateway`'s `/status`: pid, since, restarts, Java,
 * the gateway's build, where its logs are. A keeper that supervises the gateway (`watch
 * --run-gateway`, the app) keeps its supervisor's facts in `<config>/gateway/supervised-<port>.json`,
 * rewritten at every change; a one-shot command reads that of its gateway's port while that keeper
 * lives, else the record of the gateway ibkr-keeper started on that port (`gateway-<port>.json`,
 * main/gateway/process.ts). One config folder may run several gateways, one per port.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { readJsonObject, writeJsonFile } from '../session/json-store.ts';
import { consoleLogFile, parseBanner, readFrom } from './console-log.ts';
import { gatewayLogFile } from './log-watch.ts';
import { probePort } from './port.ts';
import { isGatewayProcess, processAlive, readRecord } from './process.ts';
import type { GatewayFacts, GatewaySupervisor } from './supervisor.ts';

/** The facts of the gateway's process, every field present (null when not known). */
export type GatewayProcessFacts = {
  readonly [K in keyof GatewayFacts]-?: Exclude<GatewayFacts[K], undefined> | null;
} & {
  /** The keeper that restarts it when it exits (`watch`, `app`), or null: nobody does (`gateway start`). */
  readonly supervisedBy: { readonly program: string; readonly pid: number } | null;
  /** Its pid is alive and runs the gateway. */
  readonly alive: boolean;
  /** Its port completed a TLS handshake (a one-shot command probes it; a supervisor says what it saw last). */
  readonly listening: boolean;
};

/** `<config>/gateway/supervised-<port>.json`: the facts of the supervisor of a keeper that runs now. */
export function supervisedFile(configDir: string, port: number): string {
  return path.join(configDir, 'gateway', `supervised-${port}.json`);
}

/** The facts with `undefined` as null, and what only the caller knows. */
export function processFacts(
  facts: GatewayFacts,
  extra: Pick<GatewayProcessFacts, 'supervisedBy' | 'alive' | 'listening'>,
): GatewayProcessFacts {
  const full = Object.fromEntries(Object.entries(facts).map(([key, value]) => [key, value ?? null]));
  return { ...(full as GatewayProcessFacts), ...extra };
}

/** A supervisor's facts as its own keeper shows them (watch's `/status`). */
export function supervisorFacts(supervisor: GatewaySupervisor, program: string): GatewayProcessFacts {
  const facts = supervisor.facts();
  return processFacts(facts, {
    supervisedBy: { program, pid: process.pid },
    alive: facts.pid !== undefined && processAlive(facts.pid),
    listening: facts.state === 'running' || facts.state === 'attached',
  });
}

/**
 * Keeps `supervised.json` with the supervisor's facts at every change, so that `status --json`
 * (another process) can show its restarts and state. Returns the function that removes it (when
 * the keeper ends). A file that cannot be written is said once, not thrown.
 */
export function publishSupervision(
  supervisor: GatewaySupervisor,
  options: { configDir: string; program: string; warn: (line: string) => void },
): () => void {
  let file: string | undefined;
  let warned = false;
  const write = (facts: GatewayFacts): void => {
    if (file !== undefined && file !== supervisedFile(options.configDir, facts.port)) rmSync(file, { force: true });
    file = supervisedFile(options.configDir, facts.port);
    try {
      writeJsonFile(file, { program: options.program, pid: process.pid, facts }, { durable: false });
    } catch (error) {
      if (!warned) options.warn(`Could not write ${file} (${(error as Error).message}).`);
      warned = true;
    }
  };
  supervisor.on('state', write);
  return () => {
    supervisor.off('state', write);
    if (file !== undefined) rmSync(file, { force: true });
  };
}

/** What `supervised-<port>.json` holds, when the keeper that wrote it still runs. */
export function liveSupervision(
  configDir: string,
  port: number,
): { program: string; pid: number; facts: GatewayFacts } | undefined {
  let value: Record<string, unknown> | undefined;
  try {
    value = readJsonObject(supervisedFile(configDir, port));
  } catch {
    return undefined;
  }
  const facts = value?.['facts'] as Record<string, unknown> | undefined;
  const pid = value?.['pid'];
  if (
    typeof pid !== 'number' ||
    !Number.isInteger(pid) ||
    pid === process.pid ||
    typeof value?.['program'] !== 'string' ||
    typeof facts !== 'object' ||
    facts === null ||
    typeof facts['state'] !== 'string' ||
    typeof facts['port'] !== 'number' ||
    typeof facts['restarts'] !== 'number'
  )
    return undefined;
  if (!processAlive(pid)) return undefined; // that keeper ended without removing it (killed)
  return { program: value['program'] as string, pid, facts: facts as unknown as GatewayFacts };
}

/** The build in the banner of the last run in a console log (it holds several, each after a header). */
function lastBanner(consoleLog: string): ReturnType<typeof parseBanner> {
  const text = readFrom(consoleLog, 0);
  const header = text.lastIndexOf('ibkr-keeper starts the gateway');
  return parseBanner(header === -1 ? text : text.slice(header));
}

/**
 * The gateway's process facts for a one-shot command: from a keeper that supervises it now, else
 * from the record of the gateway ibkr-keeper started (its pid alive or not, its port probed), else
 * null (ibkr-keeper runs no gateway with this config folder).
 */
export async function recordedGatewayFacts(configDir: string, port: number): Promise<GatewayProcessFacts | null> {
  const supervision = liveSupervision(configDir, port);
  if (supervision !== undefined) {
    const { facts } = supervision;
    return processFacts(facts, {
      supervisedBy: { program: supervision.program, pid: supervision.pid },
      alive: facts.pid !== undefined && facts.pid !== null && isGatewayProcess(facts.pid),
      listening: (await probePort(facts.port)) === 'tls',
    });
  }
  const record = readRecord(configDir, port);
  if (record === undefined) return null;
  const alive = isGatewayProcess(record.pid);
  const listening = (await probePort(record.port)) === 'tls';
  const consoleLog = record.consoleLog ?? consoleLogFile(configDir, record.port);
  const banner = lastBanner(consoleLog);
  const state = alive ? (listening ? 'running' : 'starting') : 'stopped';
  const reason = alive
    ? listening
      ? `the gateway ibkr-keeper started listens on port ${record.port}`
      : `the gateway ibkr-keeper started runs but does not listen on port ${record.port} (yet)`
    : `the gateway ibkr-keeper started (pid ${record.pid}) has ended; no keeper restarts it`;
  return processFacts(
    {
      state,
      reason,
      dir: record.dir,
      url: `https://localhost:${record.port}`, // as conf.ts's gatewayUrl (not loaded here: it brings YAML)
      port: record.port,
      owned: true,
      pid: record.pid,
      startedAt: record.startedAt,
      // Nobody supervises it (gateway start): nobody restarted it.
      restarts: 0,
      javaVersion: record.javaVersion,
      build: banner?.build,
      buildDate: banner?.buildDate,
      consoleLog,
      gatewayLog: gatewayLogFile(record.dir, Date.now()),
      lastExit: undefined,
    },
    { supervisedBy: null, alive, listening },
  );
}
