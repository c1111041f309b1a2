/**
 * `ibkr-keeper watch`: the keeper, headless. One line per change of state (JSON lines with
 * `--json`), desktop notifications with `--notify`, the health server with `--health-port`, the
 * history in the config folder. SIGINT and SIGTERM end it with 0 and leave the session alone.
 */
import type { Command } from 'commander';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { History } from '../../session/history.ts';
import { Keeper, type Transition } from '../../session/keeper.ts';
import { describeHolder, GatewayLease, type LeaseHolder } from '../../session/lease.ts';
import { LeasedKeeper } from '../../session/leased-keeper.ts';
import { NOTIFICATION_KINDS, NotificationPolicy } from '../../session/notifications.ts';
import { fileBudget, RecoveryBudget } from '../../session/policy.ts';
import { pushFor } from '../../session/push.ts';
import { MAX_INTERVAL_SECONDS, SettingsFile } from '../../session/settings.ts';
import { publiclyKnownNotice } from '../../session/tls.ts';
import { localTimestamp, realClock, realScheduler } from '../../session/time.ts';
import {
  boundedNumber,
  describe as describeResult,
  gatewayOptions,
  makeClient,
  port,
  type GatewayOptions,
} from '../context.ts';
import { HealthServer, transitionJson, type HealthSource } from '../health-server.ts';
import { ReasonLines } from '../reason-lines.ts';

interface WatchOptions extends GatewayOptions {
  interval?: number;
  notify?: boolean;
  healthPort?: number;
  runGateway?: boolean;
  leaveGatewayRunning?: boolean;
}

/** States the keeper cannot fix by itself: their lines say what to do. */
const NEEDS_YOU = new Set(['competing', 'login-required', 'untrusted-certificate', 'gateway-down']);

/** What a `watch` that follows another keeper says, once, on stderr. */
export function followingLine(holder: LeaseHolder, origin: string): string {
  return (
    `Following ${describeHolder(holder)}, which has kept ` +
    `the session of ${origin} since ${localTimestamp(holder.since)}: this one sends nothing ` +
    `and takes over when it stops.`
  );
}

/** One line a person reads: local time, (`withGateway`: the gateway,) state, reason. */
export function transitionLine(t: Transition, withGateway = false): string {
  const where = withGateway ? `${t.gateway ?? '(gateway not recorded)'}  ` : '';
  const what = describeResult({ state: t.state, reason: t.reason, facts: t.facts }, NEEDS_YOU.has(t.state));
  return `${localTimestamp(t.time)}  ${where}${what}`;
}

export function registerWatchCommand(program: Command): void {
  gatewayOptions(
    program
      .command('watch')
      .description('keep the session alive and report every change of state until stopped (Ctrl+C)')
      .option(
        '--interval <seconds>',
        `seconds between tickles (1 to ${MAX_INTERVAL_SECONDS}; default: the settings' intervalSeconds, else 60)`,
        boundedNumber('--interval', 1, MAX_INTERVAL_SECONDS, ': the gateway ends a session idle for about 5 minutes'),
      )
      .option('--notify', 'show desktop notifications when the session drops, comes back or needs you')
      .option(
        '--health-port <port>',
        'serve /livez, /readyz, /status and /events on 127.0.0.1:PORT',
        port('--health-port'),
      )
      .option(
        '--run-gateway',
        'start the gateway from --gateway-dir (or the setting ' +
          'gatewayDir), restart it when it exits, stop it when watch ends',
      )
      .option('--leave-gateway-running', 'with --run-gateway: leave the gateway running when watch ends'),
    {
      gatewayDefault:
        "$IBKR_KEEPER_GATEWAY, else (with --run-gateway) the gateway folder's conf.yaml, else the settings' " +
        'gateway, else https://localhost:5000',
      gatewayDir:
        "the gateway's folder (where bin/run.sh and root/conf.yaml are): the one --run-gateway runs, and " +
        'where Access Denied is explained from (default: the setting gatewayDir)',
      configDir: 'where the settings, trust, pacing, history and leases live',
    },
  ).action(async (options: WatchOptions, command: Command) => {
    const configDir = resolveConfigDir(options.configDir);
    const warn = (line: string): boolean => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    // The settings the desktop app saves (settings.json) stand in for flags not given:
    // a flag, then $IBKR_KEEPER_GATEWAY, then the settings, then the defaults.
    const { settings, problems } = SettingsFile.open(configDir).read();
    problems.forEach(warn);
    const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
    if (!given('gateway') && !process.env['IBKR_KEEPER_GATEWAY']) options.gateway = settings.gateway;
    const interval = options.interval ?? settings.intervalSeconds;
    if (!given('gatewayDir') && settings.gatewayDir !== null) options.gatewayDir = settings.gatewayDir;
    // --run-gateway: the gateway's address comes from its folder's conf.yaml unless one was given (run-gateway.ts).
    const runGateway = options.runGateway ? await import('../run-gateway.ts') : undefined;
    if (runGateway && !given('gateway') && !process.env['IBKR_KEEPER_GATEWAY'])
      options.gateway = runGateway.gatewayUrlOf(options.gatewayDir);
    const client = makeClient(options);
    const history = new History(configDir);
    // One keeper per gateway: this one keeps the session only while it holds the gateway's lease,
    // else it follows the holder's state and takes over when the holder ends (leased-keeper.ts).
    const keeper = new LeasedKeeper({
      keeper: new Keeper({
        client,
        clock: realClock,
        scheduler: realScheduler,
        budget: new RecoveryBudget(fileBudget(configDir)),
        intervalMs: interval * 1_000,
        // The gateway's WebSocket, held while ready: a drop is heard at once (main/session/push.ts).
        push: pushFor(client, realClock, realScheduler),
      }),
      lease: new GatewayLease({
        configDir,
        origin: client.address.origin,
        key: client.address.ledgerKey,
        program: 'watch',
      }),
      clock: realClock,
      scheduler: realScheduler,
    });
    keeper.on('role', (role) => {
      // Said once the holder has said who it is (its state file follows its lock by a moment).
      if (role.role === 'following' && role.holder !== undefined)
        warn(followingLine(role.holder, client.address.origin));
    });
    // One JSON for `--json` lines and the health server's /events; `change` tells a change of state
    // from a new reason within the same state.
    const json = (t: Transition, change: 'state' | 'reason' = 'state'): string => {
      const role = keeper.role();
      return transitionJson(t, client.address.origin, {
        change,
        ...(role.role === 'following' && role.holder ? { following: role.holder } : {}),
      });
    };
    const print = (t: Transition, change: 'state' | 'reason'): void => {
      process.stdout.write(options.json ? `${json(t, change)}\n` : `${transitionLine(t)}\n`);
    };
    // A new reason within a state is a line too, at most one a minute (reason-lines.ts).
    const reasons = new ReasonLines();
    keeper.on('status', (status) => {
      const line = reasons.update(status, realClock.wall(), realClock.monotonic());
      if (line) print(line, 'reason');
    });
    keeper.on('transition', (t) => {
      const role = keeper.role();
      reasons.printed(t);
      print(t, 'state');
      if (role.role !== 'keeping') return; // the holder writes the history
      try {
        history.append(t);
      } catch (error) {
        warn(`Could not write the history to ${history.file} (${(error as Error).message}).`);
      }
    });
    keeper.on('log', warn);
    // IBKR's stock certificate pinned by an earlier run: say once what it does not prove (a first
    // use in this run says it with the trust line).
    let pinned: string | undefined;
    try {
      pinned = client.trustedFingerprint();
    } catch {
      // A damaged trust.json: the keeper's first step shows it as keeper-error.
    }
    const stockNotice = publiclyKnownNotice(pinned, options.gatewayDir);
    if (stockNotice) keeper.once('status', () => warn(`Note: ${stockNotice}`));
    if (options.notify) {
      const { DesktopNotifier } = await import('../../session/notifier.ts');
      const disabled = NOTIFICATION_KINDS.filter((kind) => !settings.notifications[kind]);
      const policy = new NotificationPolicy({ disabled });
      const notifier = new DesktopNotifier({ onError: warn });
      keeper.on('status', (status) => {
        for (const note of policy.update(status, realClock.monotonic())) void notifier.show(note);
      });
    }
    // /livez is the process's: alive while the gateway starts (up to 2 minutes, before the loop
    // starts), then while the loop is; /readyz stays 503 until the session is ready.
    let looping = false;
    const source: HealthSource = {
      status: () => keeper.status(),
      alive: () => !looping || keeper.alive(),
      on: (event, listener) => keeper.on(event, listener),
      off: (event, listener) => keeper.off(event, listener),
    };
    // With --run-gateway, /status carries the gateway's process facts (`gatewayProcess`) once it is supervised.
    let gatewayFacts: (() => unknown) | undefined;
    const statusExtra = runGateway ? () => ({ gatewayProcess: gatewayFacts?.() ?? null }) : undefined;
    const health =
      options.healthPort === undefined
        ? undefined
        : await HealthServer.start(source, options.healthPort, json, statusExtra);
    if (health) warn(`Health: ${health.url}/livez, /readyz, /status, /events`);
    const gateway =
      runGateway &&
      (await runGateway.superviseGateway({
        dir: options.gatewayDir!,
        configDir,
        warn,
        onLogin: () => void keeper.keeper.checkNow(),
        onProblem: (problem) => {
          keeper.keeper.setGatewayProblem(problem);
          if (problem !== undefined) void keeper.keeper.checkNow();
        },
        onSupervisor: (facts) => (gatewayFacts = facts),
      }));
    keeper.start();
    looping = true;
    // SIGUSR1 would open Node's debugger (the command starts with --disable-sigusr1) or end the process:
    // neither, in a keeper that runs for months.
    process.on('SIGUSR1', () => warn('SIGUSR1 ignored: the keeper has no debugger to open.'));
    // SIGHUP (a closed terminal, or a supervisor's reload) ends it cleanly like SIGINT and SIGTERM.
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolve);
    });
    await keeper.stop();
    await Promise.all([health?.stop(), client.close(), gateway?.end(options.leaveGatewayRunning === true)]);
  });
}
