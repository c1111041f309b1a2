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
  modernCertificate?: boolean;
  unreachable?: boolean;
  json?: boolean;
  verbose?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run a local gateway simulator (HTTPS on 127.0.0.1) with a control interface')
    .option('--port <port>', 'HTTPS port of the simulated gateway (0: any free port)', port('--port'), SIMULATOR_PORT)
    .option(
      '--control-port <port>',
      'HTTP port of the control interface (default: the next port; 0: any free port)',
      port('--control-port'),
    )
    .option('--logged-out', 'start with nobody logged in (use the login page at the printed address)')
    .option('--scenario <file>', 'a JSON timeline of events to play (see the README)')
    .option(
      '--idle-timeout <seconds>',
      'seconds without requests before the session times out',
      positiveNumber('--idle-timeout'),
    )
    .option('--reauth-latency <seconds>', 'seconds a reauthentication takes', positiveNumber('--reauth-latency', 0))
    .option(
      '--modern-certificate',
      "a certificate valid now, for localhost and 127.0.0.1 (default: one shaped like IBKR's, expired since " +
        '2019, with no subjectAltName)',
    )
    .option(
      '--unreachable',
      'start with IBKR unreachable: API requests and the login page are accepted and never answered (event ' +
        '"recover" ends it)',
    )
    .option('--json', 'print the addresses as one JSON line')
    .option('--verbose', 'print every request received')
    .addHelpText(
      'after',
      [
        '',
        'Like the real gateway, it listens on IPv4 only (127.0.0.1), redirects / to the login page and',
        'every path outside /v1/api/ and /sso/ to https://api.ibkr.com, and makes a new certificate at',
        'every start. Events for POST /events on the control port (and for --scenario files), e.g.',
        `  curl -s http://127.0.0.1:${SIMULATOR_PORT + 1}/events -d '{"type":"drop"}'`,
        '  login, logout, drop, unauthenticate, expire-sso, recover, rotate-certificate,',
        '  compete (kicked; shows: kicked | not-authenticated; takeBackAfter: the other login takes',
        '    the session back this long after each time it loses it), access-denied, restart, no-bridge,',
        '  unreachable (IBKR cannot be reached: API requests hang), fault, advance, configure,',
        '  push (action: drop-heartbeats | resume-heartbeats | close-sockets | refuse-upgrades |',
        '    accept-upgrades: the WebSocket /v1/api/ws).',
        'The README\'s "The gateway simulator" describes each one.',
      ].join('\n'),
    )
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
        modernCertificate: options.modernCertificate ?? false,
        unreachable: options.unreachable ?? false,
        settings: {
          ...(options.idleTimeout === undefined ? {} : { idleTimeoutMs: options.idleTimeout * 1_000 }),
          ...(options.reauthLatency === undefined ? {} : { reauthLatencyMs: options.reauthLatency * 1_000 }),
        },
        onRequest: options.verbose
          ? (r) =>
              process.stderr.write(
                `${r.at} ${r.method} ${r.path} ` +
                  `-> ${r.status ?? r.outcome}${
                    r.outcome === 'answered' || r.status === null ? '' : ` (${r.outcome})`
                  }\n`,
              )
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
        process.stdout.write(
          `${JSON.stringify({ gateway: sim.url, fingerprint256: sim.fingerprint256, control: control.url })}\n`,
        );
      } else {
        process.stdout.write(
          [
            'IBKR Client Portal Gateway simulator',
            `  gateway:     ${sim.url}`,
            `  certificate: SHA-256 ${sim.fingerprint256}`,
            `               ${
              options.modernCertificate
                ? 'valid now, for localhost and 127.0.0.1'
                : "shaped like IBKR's: expired since 2019, no subjectAltName (pin it by fingerprint)"
            }`,
            `  control:     ${control.url}  (GET /state, POST /events, GET /requests)`,
            `  user:        ${SIM_USER.userName} ` +
              `(paper), ${options.loggedOut ? 'not logged in: open the gateway address in a browser' : 'logged in'}`,
            `  scenario:    ${scenario ? `${options.scenario} (${scenario.events.length} events)` : 'none'}`,
            ...(options.unreachable
              ? ['  IBKR:        unreachable: API requests are never answered (send {"type":"recover"} to end it)']
              : []),
            '',
            `Try:  npx ibkr-keeper status --gateway ${sim.url}`,
            `      curl -s ${control.url}/events -d '{"type":"drop"}'`,
            'Ctrl+C stops it.',
            '',
          ].join('\n'),
        );
      }
      // Long-running like watch: SIGHUP stops it cleanly too, SIGUSR1 opens no debugger.
      process.on('SIGUSR1', () => undefined);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolve);
      });
      await Promise.all([control.stop(), sim.stop()]);
    });
}
