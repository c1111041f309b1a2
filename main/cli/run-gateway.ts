/**
 * `watch --run-gateway`: the gateway supervised in the keeper's own process (for servers). Its
 * changes are lines on stderr; a login in the gateway's log makes the keeper check at once; the
 * gateway is stopped when `watch` ends unless `--leave-gateway-running`. Loaded only with the flag.
 */
import { UserError } from '../session/errors.ts';
import type { GatewayProblem } from '../session/keeper.ts';
import { realClock, realScheduler } from '../session/time.ts';
import { gatewayUrl, openGatewayFolder } from '../gateway/conf.ts';
import { linkGateway } from '../gateway/link.ts';
import { publishSupervision, supervisorFacts, type GatewayProcessFacts } from '../gateway/process-facts.ts';
import { GatewaySupervisor } from '../gateway/supervisor.ts';

/** The address of the gateway in `dir`, from its conf.yaml (a UserError when the folder is not one). */
export function gatewayUrlOf(dir: string | undefined): string {
  if (dir === undefined)
    throw new UserError(
      "--run-gateway needs the gateway's folder: --gateway-dir DIR (where bin/run.sh and root/conf.yaml are), " +
        'or the setting gatewayDir.',
    );
  return gatewayUrl(openGatewayFolder(dir).conf.config);
}

export interface SupervisedGateway {
  readonly supervisor: GatewaySupervisor;
  /** `gatewayProcess` of `/status`: pid, since, restarts, Java, build, logs. */
  facts(): GatewayProcessFacts;
  /** Stops the gateway, or leaves it running (the next start attaches to it). */
  end(leaveRunning: boolean): Promise<void>;
}

/**
 * Starts (or attaches to) the gateway and resolves once it listens, gave up or failed (the keeper
 * then reports gateway-down with its own reason). A signal meanwhile stops it and ends the process.
 */
export async function superviseGateway(options: {
  dir: string;
  configDir: string;
  warn: (line: string) => void;
  onLogin: () => void;
  /** The keeper's setGatewayProblem: why the gateway is down, what its log said of its login (main/gateway/link.ts). */
  onProblem: (problem: GatewayProblem | undefined) => void;
  /** The supervisor exists (before the gateway listens): `/status` can show its facts from now on. */
  onSupervisor?: (facts: () => GatewayProcessFacts) => void;
}): Promise<SupervisedGateway> {
  const { warn } = options;
  const supervisor = new GatewaySupervisor({
    dir: options.dir,
    configDir: options.configDir,
    clock: realClock,
    scheduler: realScheduler,
    keepAlive: true,
  });
  supervisor.on('state', (f) => {
    const details = [
      f.pid === undefined ? undefined : `pid ${f.pid}`,
      f.restarts > 0 ? `${f.restarts} restart${f.restarts === 1 ? '' : 's'}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    warn(
      `Gateway ${
        f.state === 'gave-up' ? 'gave up (gateway-down)' : f.state
      }: ${f.reason}${details ? ` (${details})` : ''}`,
    );
  });
  supervisor.on('gatewayLog', (event) => {
    if (event.kind === 'login') warn('Gateway log: "Client login succeeds": checking the session now.');
    else warn(`Gateway log: ${event.reason}`);
  });
  linkGateway(supervisor, { problem: options.onProblem, login: options.onLogin });
  // For `status --json` in another process (main/gateway/process-facts.ts); removed when watch ends.
  const unpublish = publishSupervision(supervisor, { configDir: options.configDir, program: 'watch', warn });
  const facts = (): GatewayProcessFacts => supervisorFacts(supervisor, 'watch');
  options.onSupervisor?.(facts);
  const interrupted = async (): Promise<void> => {
    await supervisor.stop('stopped: watch ended');
    unpublish();
    process.exit(0);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, interrupted);
  try {
    await supervisor.start();
  } finally {
    for (const s of signals) process.off(s, interrupted);
  }
  return {
    supervisor,
    facts,
    async end(leaveRunning) {
      if (leaveRunning) supervisor.release();
      else await supervisor.stop('stopped: watch ended');
      unpublish();
    },
  };
}
