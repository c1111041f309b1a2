/** `ibkr-keeper simulate`: the gateway simulator, for trying the keeper where no gateway runs. */
import type { Command } from 'commander';
import { port, positiveNumber } from '../context.ts';

/** The simulator's default port: beside the real gateway's 5000, so both can run. */
export const SIMULATOR_PORT = 5050;

interface SimulateOptions {
  port: number;
  controlPort?: number;
  loggedOut?: boolean;
  scenario?: string;
  idleTimeout?: number;
  reauthLatency?: number;
  json?: boolean;
  verbose?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run a local gateway simulator (HTTPS on 127.0.0.1) with a control interface')
    .option('--port <port>', 'HTTPS port of the simulated gateway (0: any free port)', port('--port'), SIMULATOR_PORT)
    .option('--control-port <port>', 'HTTP port of the control interface (default: the next port; 0: any free port)', port('--control-port'))
    .option('--logged-out', 'start with nobody logged in (use the login page at the printed address)')
    .option('--scenario <file>', 'a JSON timeline of events to play (see the README)')
    .option('--idle-timeout <seconds>', 'seconds without requests before the session times out', positiveNumber('--idle-timeout'))
    .option('--reauth-latency <seconds>', 'seconds a reauthentication takes', positiveNumber('--reauth-latency', 0))
    .option('--json', 'print the addresses as one JSON line')
    .option('--verbose', 'print every request received')
    .action(async (options: SimulateOptions) => {
      // Loaded here, so that the other commands never carry the simulator in memory.
      const [{ ControlServer }, { SIM_USER }, { loadScenario }, { Simulator }] = await Promise.all([
        import('../../simulator/control.ts'),
        import('../../simulator/model.ts'),
        import('../../simulator/scenario.ts'),
        import('../../simulator/server.ts'),
      ]);
      const scenario = options.scenario === undefined ? undefined : await loadScenario(options.scenario);
      const sim = await Simulator.start({
        port: options.port,
        loggedOut: options.loggedOut ?? false,
        scenario,
        settings: {
          ...(options.idleTimeout === undefined ? {} : { idleTimeoutMs: options.idleTimeout * 1_000 }),
          ...(options.reauthLatency === undefined ? {} : { reauthLatencyMs: options.reauthLatency * 1_000 }),
        },
        onRequest: options.verbose
          ? (r) => process.stderr.write(`${r.at} ${r.method} ${r.path} -> ${r.status ?? r.outcome}${r.outcome === 'answered' ? '' : ` (${r.outcome})`}\n`)
          : undefined,
      });
      let control: Awaited<ReturnType<typeof ControlServer.start>>;
      try {
        control = await ControlServer.start(sim, options.controlPort ?? (options.port === 0 ? 0 : options.port + 1));
      } catch (error) {
        await sim.stop();
        throw error;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ gateway: sim.url, fingerprint256: sim.fingerprint256, control: control.url })}\n`);
      } else {
        process.stdout.write(
          [
            'IBKR Client Portal Gateway simulator',
            `  gateway:     ${sim.url}`,
            `  certificate: SHA-256 ${sim.fingerprint256}`,
            `  control:     ${control.url}  (GET /state, POST /events, GET /requests)`,
            `  user:        ${SIM_USER.userName} (paper), ${options.loggedOut ? 'not logged in: open the gateway address in a browser' : 'logged in'}`,
            `  scenario:    ${scenario ? `${options.scenario} (${scenario.events.length} events)` : 'none'}`,
            '',
            `Try:  npx ibkr-keeper status --gateway ${sim.url}`,
            `      curl -s ${control.url}/events -d '{"type":"drop"}'`,
            'Ctrl+C stops it.',
            '',
          ].join('\n'),
        );
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await Promise.all([control.stop(), sim.stop()]);
    });
}
