/**
 * The gateway supervisor (no Electron): starts IBKR's gateway from its folder as bin/run.sh does,
 * owns the process (its own process group, a pid file in the config folder), says when it is
 * ready (its port completes a TLS handshake), restarts it when it exits (5 s, 30 s, 2 min; after
 * 3 exits in 10 minutes it stops and says why), stops it (SIGTERM, SIGKILL after 10 s), attaches
 * to a gateway already listening instead of starting a second one, and follows the gateway's log.
 * Time is a parameter (clock and scheduler), so the restart policy runs in a test without waiting.
 * docs/gateway.md ("Running the gateway") holds the facts used here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { UserError } from '../session/errors.ts';
import type { Clock, Scheduler, Timer } from '../session/time.ts';
import { gatewayUrl, openGatewayFolder, type GatewayFolder } from './conf.ts';
import {
  consoleLogFile,
  lastLines,
  openConsoleLog,
  parseBanner,
  readFrom,
  rotateIfLarge,
  tellingLine,
} from './console-log.ts';
import { findJava, JavaNotFoundError, MINIMUM_JAVA } from './java.ts';
import { GatewayLogWatcher, gatewayLogFile, type GatewayLogEvent } from './log-watch.ts';
import { probePort } from './port.ts';
import {
  endGroup,
  isGatewayProcess,
  launchCommand,
  processAlive,
  readRecord,
  recordOf,
  removeRecord,
  writeRecord,
  type GatewayRecord,
} from './process.ts';

/** What the supervised gateway is doing. */
export type GatewayProcessState =
  | 'stopped'
  | 'starting'
  | 'running'
  | 'attached'
  | 'restarting'
  | 'gave-up'
  | 'failed'
  | 'left-running';

/** The facts a window or `gateway status --json` shows. */
export interface GatewayFacts {
  readonly state: GatewayProcessState;
  readonly reason: string;
  readonly dir: string;
  readonly url: string;
  readonly port: number;
  /** True when this keeper started it (and so restarts and stops it). */
  readonly owned: boolean;
  readonly pid: number | undefined;
  readonly startedAt: string | undefined;
  readonly restarts: number;
  readonly javaVersion: string | undefined;
  /** The gateway's build from its banner (`a27ed42`) and its date. */
  readonly build: string | undefined;
  readonly buildDate: string | undefined;
  readonly consoleLog: string;
  readonly gatewayLog: string;
  readonly lastExit:
    | {
        readonly code: number | null;
        readonly signal: string | null;
        readonly at: string;
        readonly lastLines: readonly string[];
      }
    | undefined;
}

export interface SupervisorEvents {
  state: [GatewayFacts];
  /** A sentence for a person (attached, restarting, an orphan found). */
  log: [string];
  /** A line of the gateway's log that matters (a login: check the session now). */
  gatewayLog: [GatewayLogEvent];
}

export interface SupervisorOptions {
  /** The gateway's folder. */
  dir: string;
  /** The keeper's config folder (pid file and console log). */
  configDir: string;
  clock: Clock;
  scheduler: Scheduler;
  /** Restart it when it exits (`watch --run-gateway`, the app); false for a one-shot `gateway start`. */
  keepAlive?: boolean;
  /** Waits before each restart: 5 s, 30 s, 2 min. */
  backoffMs?: readonly number[];
  /** Exits within `exitWindowMs` that make it give up: 3 in 10 minutes. */
  maxExits?: number;
  exitWindowMs?: number;
  /** How long a start may take to listen: 120 s. */
  readyTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this: 10 s. */
  stopGraceMs?: number;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/** Waits the issue gives: restart after 5 s, 30 s, 2 min. */
export const RESTART_BACKOFF_MS = [5_000, 30_000, 120_000] as const;

export class GatewaySupervisor extends EventEmitter<SupervisorEvents> {
  readonly #o: Required<Omit<SupervisorOptions, 'env' | 'platform'>> & Pick<SupervisorOptions, 'env' | 'platform'>;
  #state: GatewayProcessState = 'stopped';
  #reason = 'not started';
  #port = 0;
  #url = '';
  #owned = false;
  #pid: number | undefined;
  #child: ChildProcess | undefined;
  #startedAt: string | undefined;
  #restarts = 0;
  #javaVersion: string | undefined;
  #banner: { build: string; buildDate: string } | undefined;
  #lastExit: GatewayFacts['lastExit'];
  #exits: number[] = [];
  #consecutive = 0;
  #attempt = 0;
  #consoleStart = 0;
  #failure: string | undefined;
  #timers = new Set<Timer>();
  #watcher: GatewayLogWatcher;
  #settled: ((facts: GatewayFacts) => void) | undefined;
  #folder: GatewayFolder | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#o = {
      keepAlive: true,
      backoffMs: RESTART_BACKOFF_MS,
      maxExits: 3,
      exitWindowMs: 600_000,
      readyTimeoutMs: 120_000,
      stopGraceMs: 10_000,
      ...options,
    };
    this.#watcher = new GatewayLogWatcher({
      dir: options.dir,
      clock: options.clock,
      scheduler: options.scheduler,
      onEvent: (e) => this.emit('gatewayLog', e),
    });
    try {
      this.#port = openGatewayFolder(options.dir).conf.config.listenPort; // its console log's name, before start()
    } catch {
      // start() says what is wrong with the folder
    }
  }

  facts(): GatewayFacts {
    return {
      state: this.#state,
      reason: this.#reason,
      dir: this.#o.dir,
      url: this.#url,
      port: this.#port,
      owned: this.#owned,
      pid: this.#pid,
      startedAt: this.#startedAt,
      restarts: this.#restarts,
      javaVersion: this.#javaVersion,
      build: this.#banner?.build,
      buildDate: this.#banner?.buildDate,
      consoleLog: consoleLogFile(this.#o.configDir, this.#port),
      gatewayLog: this.#watcher.file,
      lastExit: this.#lastExit,
    };
  }

  /**
   * Starts (or attaches to) the gateway; resolves when it is running or attached, or when it
   * failed or gave up (the facts say why). Throws a UserError for what a person must fix first:
   * the folder, conf.yaml, Java, a port another program holds.
   */
  async start(): Promise<GatewayFacts> {
    if (['starting', 'running', 'attached', 'restarting'].includes(this.#state)) return this.facts();
    const { folder, conf } = openGatewayFolder(this.#o.dir);
    if (!conf.config.listenSsl)
      throw new UserError(
        `${folder.conf} sets "listenSsl: false": the keeper talks to the gateway over HTTPS only; set it to true.`,
      );
    this.#folder = folder;
    this.#port = conf.config.listenPort;
    this.#url = gatewayUrl(conf.config);
    this.#exits = [];
    this.#consecutive = 0;
    this.#watcher.start();
    const orphan = this.#findOrphan();
    const port = await probePort(this.#port);
    if (port === 'tls') {
      if (orphan) {
        this.#adopt(orphan);
        this.#set(
          'attached',
          `the gateway this keeper started earlier ` +
            `(pid ${orphan.pid}, since ${orphan.startedAt}) is still running on port ${this.#port}: kept it`,
        );
      } else {
        this.#owned = false;
        this.#set(
          'attached',
          `a gateway already listens on port ${this.#port}: attached to it (not started here, so it is neither ` +
            `restarted nor stopped here)`,
        );
      }
      this.emit('log', `Gateway: ${this.#reason}.`);
      return this.facts();
    }
    if (orphan) {
      this.emit(
        'log',
        `Gateway: the gateway this keeper started earlier ` +
          `(pid ${orphan.pid}, since ${orphan.startedAt}) was still running but not listening on ` +
          `port ${this.#port}: stopped it.`,
      );
      await endGroup(orphan.pid, { graceMs: this.#o.stopGraceMs, platform: this.#o.platform });
      removeRecord(this.#o.configDir, this.#port, orphan.pid);
    }
    if (port !== 'free') {
      this.#watcher.stop();
      throw new UserError(
        `Port ${this.#port} is taken by another program ` +
          `(${port}), not a gateway: stop that program, or give the gateway another "listenPort" in ${folder.conf}.`,
      );
    }
    let java;
    try {
      java = await findJava({ env: this.#o.env, platform: this.#o.platform });
    } catch (error) {
      this.#watcher.stop();
      if (error instanceof JavaNotFoundError) throw new UserError(error.message);
      throw error;
    }
    if (!java.supported) {
      this.#watcher.stop();
      throw new UserError(
        `${java.java} is Java ${java.version?.text ?? '(version unknown)'}; the gateway needs ` +
          `Java ${MINIMUM_JAVA} or later: install a newer one or set JAVA_HOME to it.`,
      );
    }
    this.#javaVersion = java.version?.text;
    const settled = new Promise<GatewayFacts>((resolve) => (this.#settled = resolve));
    this.#spawn(java.java);
    return settled;
  }

  /** Stops the gateway this keeper started (never one it attached to without starting it). */
  async stop(reason = 'stopped by you'): Promise<void> {
    this.#cancelTimers();
    this.#watcher.stop();
    this.#attempt += 1; // ends any readiness wait
    const pid = this.#owned ? this.#pid : undefined;
    this.#state = 'stopped'; // before the exit arrives: a stopped gateway is never restarted
    if (pid !== undefined) await endGroup(pid, { graceMs: this.#o.stopGraceMs, platform: this.#o.platform });
    // Only the record of the gateway it stopped: one started since from elsewhere is not this one's.
    if (pid !== undefined) removeRecord(this.#o.configDir, this.#port, pid);
    this.#owned = false;
    this.#child = undefined;
    this.#pid = undefined;
    this.#set('stopped', reason);
  }

  /** Leaves the gateway running (the setting "leave the gateway running"): the next start finds it. */
  release(): void {
    this.#cancelTimers();
    this.#watcher.stop();
    this.#attempt += 1;
    this.#child?.removeAllListeners('exit');
    this.#child?.unref();
    const pid = this.#pid;
    this.#set(
      'left-running',
      pid === undefined ? 'left running' : `left running (pid ${pid}); the next start attaches to it`,
    );
  }

  async restart(): Promise<GatewayFacts> {
    await this.stop('restarting');
    return this.start();
  }

  #set(state: GatewayProcessState, reason: string): void {
    this.#state = state;
    this.#reason = reason;
    this.emit('state', this.facts());
    if (['running', 'attached', 'failed', 'gave-up', 'stopped'].includes(state) && this.#settled) {
      const settle = this.#settled;
      this.#settled = undefined;
      settle(this.facts());
    }
  }

  #after(ms: number, run: () => void): void {
    const timer = this.#o.scheduler.after(ms, () => {
      this.#timers.delete(timer);
      run();
    });
    this.#timers.add(timer);
  }

  #cancelTimers(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }

  /** The gateway this config folder started from this folder on this port, still running. */
  #findOrphan(): GatewayRecord | undefined {
    const record = readRecord(this.#o.configDir, this.#port);
    if (record === undefined) return undefined;
    if (!isGatewayProcess(record.pid)) {
      removeRecord(this.#o.configDir, this.#port, record.pid); // it ended while nobody watched
      return undefined;
    }
    // Another folder's gateway on this port: not this one's to keep or stop (the port probe decides).
    return recordOf(record, this.#o.dir) ? record : undefined;
  }

  /** Takes over a gateway this keeper started earlier: its pid is watched for an exit. */
  #adopt(record: GatewayRecord): void {
    this.#owned = true;
    this.#pid = record.pid;
    this.#startedAt = record.startedAt;
    this.#javaVersion = record.javaVersion;
    this.#consoleStart = 0;
    this.#banner = parseBanner(readFrom(record.consoleLog, 0));
    const attempt = this.#attempt;
    const check = (): void => {
      if (attempt !== this.#attempt) return;
      if (!processAlive(record.pid)) return this.#exited(attempt, null, null);
      this.#after(1_000, check);
    };
    this.#after(1_000, check);
  }

  #spawn(java: string): void {
    const attempt = ++this.#attempt;
    // The folder as start() checked it: a conf.yaml edited since is the gateway's to read (and its error to show).
    const command = launchCommand(this.#folder!, java, this.#o.platform);
    const file = consoleLogFile(this.#o.configDir, this.#port);
    const now = new Date(this.#o.clock.wall()).toISOString();
    const { fd, start } = openConsoleLog(
      file,
      `---- ${now} ibkr-keeper starts the gateway: ${command.command} ${command.args.join(' ')} (in ${command.cwd})`,
    );
    this.#consoleStart = start;
    this.#failure = undefined;
    this.#owned = true;
    this.#startedAt = now;
    this.#set('starting', `starting the gateway on port ${this.#port}`);
    let child: ChildProcess;
    try {
      // Its own process group (detached), so that stopping it ends every process it started.
      child = spawn(command.command, command.args, {
        cwd: command.cwd,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: this.#o.env ?? process.env,
        windowsHide: true,
      });
    } finally {
      closeSync(fd);
    }
    this.#child = child;
    child.once('error', (error) => {
      this.#failure = `Java could not be started (${(error as NodeJS.ErrnoException).code ?? error.message})`;
    });
    child.once('exit', (code, signal) => this.#exited(attempt, code, signal));
    if (child.pid === undefined) return; // 'error' and 'exit' follow
    this.#pid = child.pid;
    writeRecord(this.#o.configDir, {
      pid: child.pid,
      startedAt: now,
      dir: this.#o.dir,
      port: this.#port,
      java,
      javaVersion: this.#javaVersion,
      consoleLog: file,
    });
    void this.#waitReady(attempt);
  }

  /** Probes the port until it completes a TLS handshake; reads the console for a failure meanwhile. */
  async #waitReady(attempt: number): Promise<void> {
    const deadline = this.#o.clock.monotonic() + this.#o.readyTimeoutMs;
    const file = consoleLogFile(this.#o.configDir, this.#port);
    for (;;) {
      await new Promise<void>((resolve) => this.#after(250, resolve));
      if (attempt !== this.#attempt || this.#state !== 'starting') return;
      const console = readFrom(file, this.#consoleStart);
      this.#banner ??= parseBanner(console);
      const listenFailed = /^Server listen failed.*$/m.exec(console)?.[0];
      if (listenFailed)
        return this.#abort(attempt, `the gateway could not listen on port ${this.#port}: "${listenFailed.trim()}"`);
      if ((await probePort(this.#port, 1_000)) === 'tls') {
        if (attempt !== this.#attempt) return;
        this.#banner ??= parseBanner(readFrom(file, this.#consoleStart));
        this.#set('running', `the gateway listens on ${this.#url}`);
        // A run that lasts resets the backoff (see #exited).
        const started = this.#o.clock.monotonic();
        this.#after(this.#o.exitWindowMs, () => {
          if (attempt === this.#attempt && this.#o.clock.monotonic() - started >= this.#o.exitWindowMs)
            this.#consecutive = 0;
        });
        this.#after(60_000, () => this.#rotate(attempt));
        return;
      }
      if (this.#o.clock.monotonic() > deadline) {
        return this.#abort(
          attempt,
          `the gateway did not listen on ` +
            `port ${this.#port} within ${Math.round(this.#o.readyTimeoutMs / 1_000)} s (a keystore it cannot ` +
            `open does this: run ibkr-keeper doctor)`,
        );
      }
    }
  }

  #rotate(attempt: number): void {
    if (attempt !== this.#attempt) return;
    if (rotateIfLarge(consoleLogFile(this.#o.configDir, this.#port))) this.#consoleStart = 0;
    this.#after(60_000, () => this.#rotate(attempt));
  }

  /** Ends a start that cannot succeed; the exit that follows carries `reason`. */
  #abort(attempt: number, reason: string): void {
    if (attempt !== this.#attempt) return;
    this.#failure = reason;
    if (this.#pid !== undefined) void endGroup(this.#pid, { graceMs: this.#o.stopGraceMs, platform: this.#o.platform });
  }

  #exited(attempt: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (attempt !== this.#attempt || this.#state === 'stopped' || this.#state === 'left-running') return;
    // `ibkr-keeper gateway stop` removes the pid file before it ends the gateway: a stop, not a crash.
    const stoppedElsewhere = this.#pid !== undefined && readRecord(this.#o.configDir, this.#port)?.pid !== this.#pid;
    if (this.#pid !== undefined) removeRecord(this.#o.configDir, this.#port, this.#pid);
    const lines = lastLines(readFrom(consoleLogFile(this.#o.configDir, this.#port), this.#consoleStart));
    const at = new Date(this.#o.clock.wall()).toISOString();
    this.#lastExit = { code, signal, at, lastLines: lines };
    this.#child = undefined;
    this.#pid = undefined;
    if (stoppedElsewhere) {
      this.#watcher.stop();
      this.#owned = false;
      if (!this.#o.keepAlive) return this.#set('stopped', 'stopped by ibkr-keeper gateway stop (not restarted)');
      this.#set(
        'stopped',
        'stopped by ibkr-keeper gateway stop (not restarted); supervised again once ibkr-keeper gateway start or ' +
          'restart starts it',
      );
      return this.#watchForStart(attempt);
    }
    const how = signal ? `signal ${signal}` : code === null ? 'code unknown' : `code ${code}`;
    const why =
      this.#failure ??
      tellingLine(lines) ??
      (lines.length === 0 ? 'it printed nothing' : 'its console says nothing of why (was it killed?)');
    const now = this.#o.clock.monotonic();
    this.#exits = [...this.#exits.filter((t) => now - t < this.#o.exitWindowMs), now];
    this.#consecutive += 1;
    if (!this.#o.keepAlive) return this.#set('failed', this.#failure ?? `the gateway exited (${how}): ${why}`);
    if (this.#exits.length >= this.#o.maxExits) {
      this.#watcher.stop();
      return this.#set('gave-up', `the gateway keeps exiting (${how}): ${why}`);
    }
    const wait = this.#o.backoffMs[Math.min(this.#consecutive - 1, this.#o.backoffMs.length - 1)]!;
    this.#set('restarting', `the gateway exited (${how}): ${why}; restarting in ${formatWait(wait)}`);
    this.emit('log', `Gateway: ${this.#reason}.`);
    this.#after(wait, () => {
      if (this.#state !== 'restarting') return;
      this.#restarts += 1;
      void this.#restartNow();
    });
  }

  /**
   * After `gateway stop` from elsewhere: a gateway that `gateway start` or `restart` starts again
   * from this folder with this config folder (its record, its port answering) is supervised again,
   * so that `gateway restart` while `watch --run-gateway` runs keeps it supervised.
   */
  #watchForStart(attempt: number): void {
    this.#after(1_000, () => void this.#startedElsewhere(attempt));
  }

  async #startedElsewhere(attempt: number): Promise<void> {
    const current = (): boolean => attempt === this.#attempt && this.#state === 'stopped';
    if (!current()) return;
    const record = readRecord(this.#o.configDir, this.#port);
    if (record !== undefined && recordOf(record, this.#o.dir) && isGatewayProcess(record.pid)) {
      const port = await probePort(this.#port, 1_000);
      if (!current()) return;
      if (port === 'tls') {
        this.#attempt += 1;
        this.#adopt(record);
        this.#watcher.start();
        this.#set(
          'running',
          `the gateway that ibkr-keeper gateway start or restart started listens on ${this.#url}: supervised again`,
        );
        this.emit('log', `Gateway: ${this.#reason}.`);
        return;
      }
    }
    this.#watchForStart(attempt);
  }

  async #restartNow(): Promise<void> {
    try {
      const java = await findJava({ env: this.#o.env, platform: this.#o.platform });
      if (this.#state === 'restarting') this.#spawn(java.java);
    } catch (error) {
      this.#set('failed', (error as Error).message);
    }
  }
}

function formatWait(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
}

export { gatewayLogFile };
