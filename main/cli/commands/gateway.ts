/**
 * `ibkr-keeper gateway certificate` and `ibkr-keeper doctor`: the gateway's own setup. Only the
 * options live here; the work is loaded when the command runs (it brings the YAML reader, which
 * `watch` has no use for).
 */
import type { Command } from 'commander';
import { gatewayOptions, type GatewayOptions } from '../context.ts';

export interface CertificateOptions {
  dir?: string;
  configDir?: string;
  json?: boolean;
}

export function registerGatewayCommands(program: Command, exit: (code: number) => void): void {
  const gateway = program.command('gateway').description("set up IBKR's gateway itself (its certificate)");
  gateway
    .command('certificate')
    .description("give the gateway a new key and certificate of its own instead of IBKR's publicly known one, and trust it")
    .option('--dir <dir>', "the gateway's folder, where bin/run.sh and root/conf.yaml are (default: the setting gatewayDir)")
    .option('--config-dir <dir>', 'where the trust file lives (default: the platform config folder, or $IBKR_KEEPER_CONFIG_DIR)')
    .option('--json', 'print one JSON object instead of lines')
    .action(async (options: CertificateOptions) => exit(await (await import('./gateway-tools.ts')).runGatewayCertificate(options)));

  gatewayOptions(
    program
      .command('doctor')
      .description('check the setup one line at a time, from Java to the session, and say what to do (exit 0 only when all pass)'),
  ).action(async (options: GatewayOptions, command: Command) => exit(await (await import('./gateway-tools.ts')).runDoctorCommand(options, command.getOptionValueSource('gateway') === 'cli')));
}
