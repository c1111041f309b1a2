/**
 * `ibkr-keeper gateway certificate|start|stop|restart|status|logs`, `ibkr-keeper doctor` and
 * `ibkr-keeper login`: the gateway itself. Only the options live here; the work is loaded when the
 * command runs (it brings the YAML reader, which `watch` has no use for).
 */
import type { Command } from 'commander';
import { gatewayOptions, positiveNumber, type GatewayOptions } from '../context.ts';
import type { ProcessOptions } from './gateway-process.ts';
import type { LoginOptions } from './login.ts';

export interface CertificateOptions {
  dir?: string;
  configDir?: string;
  json?: boolean;
}

export function registerGatewayCommands(program: Command, exit: (code: number) => void): void {
  const gateway = program
    .command('gateway')
    .description("run IBKR's gateway (start, stop, restart, status, logs) and set it up (its certificate)");
  gateway
    .command('certificate')
    .description(
      "give the gateway a new key and certificate of its own instead of IBKR's publicly known one, and trust it",
    )
    .option(
      '--dir <dir>',
      "the gateway's folder, where bin/run.sh and root/conf.yaml are (default: the setting gatewayDir)",
    )
    .option(
      '--config-dir <dir>',
      'where the trust file lives (default: the platform config folder, or $IBKR_KEEPER_CONFIG_DIR)',
    )
    .option('--json', 'print one JSON object instead of lines')
    .action(async (options: CertificateOptions) =>
      exit(await (await import('./gateway-tools.ts')).runGatewayCertificate(options)),
    );

  const processCommand = (
    name: string,
    description: string,
    run: (m: typeof import('./gateway-process.ts'), o: ProcessOptions) => Promise<number>,
  ): Command =>
    gateway
      .command(name)
      .description(description)
      .option(
        '--dir <dir>',
        "the gateway's folder, where bin/run.sh and root/conf.yaml are (default: the running gateway's, else " +
          'the setting gatewayDir)',
      )
      .option(
        '--config-dir <dir>',
        'where the pid file and the console log live (default: the platform config folder, or $IBKR_KEEPER_CONFIG_DIR)',
      )
      .option('--json', 'print one JSON object instead of lines')
      .action(async (options: ProcessOptions) => exit(await run(await import('./gateway-process.ts'), options)));
  processCommand(
    'start',
    'start the gateway from its folder and leave it running (attaches to one already running; exit 0 once it listens)',
    (m, o) => m.runGatewayStart(o),
  );
  processCommand('stop', 'stop the gateway ibkr-keeper started (SIGTERM, then SIGKILL after 10 s)', (m, o) =>
    m.runGatewayStop(o),
  );
  processCommand('restart', 'stop the gateway ibkr-keeper started, then start it again', (m, o) =>
    m.runGatewayRestart(o),
  );
  processCommand(
    'status',
    "the gateway's process: running or not, pid, since, build, Java, where its logs are (exit 0 when it listens)",
    (m, o) => m.runGatewayStatus(o),
  );
  processCommand('logs', "the last lines of the gateway's console (its own log of today with --gateway-log)", (m, o) =>
    m.runGatewayLogs(o),
  )
    .option('--follow', 'keep printing new lines until Ctrl+C')
    .option('--gateway-log', "the gateway's own log (logs/gw.YYYY-MM-DD.log in its folder) instead of its console")
    .option('--lines <n>', 'how many lines to print first (default 50)', positiveNumber('--lines', 1));

  gatewayOptions(
    program
      .command('login')
      .description(
        'print where to log in to the gateway and open it in the browser (the address from --gateway, else the ' +
          "gateway folder's conf.yaml, else the settings)",
      )
      .option('--no-open', 'only print the address'),
    {
      gatewayDefault: "$IBKR_KEEPER_GATEWAY, else the gateway folder's conf.yaml, else the settings' gateway",
      gatewayDir: "the gateway's folder (where bin/run.sh and root/conf.yaml are): its conf.yaml gives the address",
      timeout: false,
      configDir: 'where the settings and the trust file live',
    },
  ).action(async (options: LoginOptions, command: Command) =>
    exit(await (await import('./login.ts')).runLogin(options, command.getOptionValueSource('gateway') === 'cli')),
  );

  gatewayOptions(
    program
      .command('doctor')
      .description(
        'check the setup one line at a time, from Java to the session, and say what to do (exit 0 only when all pass)',
      ),
    {
      gatewayDefault: "$IBKR_KEEPER_GATEWAY, else the gateway folder's conf.yaml, else the settings' gateway",
      gatewayDir:
        "the gateway's folder (where bin/run.sh and root/conf.yaml are): adds the checks of its conf.yaml, " +
        'keystore and allow list (default: the setting gatewayDir)',
      configDir: 'where the settings, trust and pacing files live',
    },
  ).action(async (options: GatewayOptions, command: Command) =>
    exit(
      await (await import('./gateway-tools.ts')).runDoctorCommand(
        options,
        command.getOptionValueSource('gateway') === 'cli',
      ),
    ),
  );
}
