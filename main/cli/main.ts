#!/usr/bin/env node
/**
 * `ibkr-keeper`, the headless front end: `watch` (the keeper), one-shot commands for each session
 * endpoint, `history`, `trust`, `gateway certificate`, `doctor`, `simulate` and `demo`. Exit codes: 0 ready (or done),
 * 2 bad usage, 3-9 the state, 10 a failed `doctor` check (README).
 */
import { Command, CommanderError } from 'commander';
import { UserError } from '../session/errors.ts';
import { registerGatewayCommands } from './commands/gateway.ts';
import { registerHistoryCommand } from './commands/history.ts';
import { registerSessionCommands } from './commands/session.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { registerTrustCommands } from './commands/trust.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { boundedNumber } from './context.ts';

/** Builds the program; `exit` receives each command's exit code. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('ibkr-keeper')
    .description('Keeps an IBKR Client Portal Gateway session alive and tells its state.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerWatchCommand(program);
  registerSessionCommands(program, exit);
  registerHistoryCommand(program, exit);
  registerTrustCommands(program, exit);
  registerGatewayCommands(program, exit);
  registerSimulateCommand(program);
  program
    .command('demo')
    .description(
      "the keeper through a simulated day of the gateway's troubles (drops, another login, the daily reset, a " +
        'rate limit, a new certificate...) in seconds, on the built-in simulator (no gateway or account needed)',
    )
    .option(
      '--reauth-latency <seconds>',
      'seconds the simulated reauthentication takes',
      boundedNumber('--reauth-latency', 0, 120),
      3,
    )
    .action(async (options: { reauthLatency: number }) => (await import('./commands/demo.ts')).runDemo(options));
  for (const command of program.commands) {
    command.exitOverride();
    command.showHelpAfterError('(run with --help for usage)');
    for (const sub of command.commands) sub.exitOverride().showHelpAfterError('(run with --help for usage)');
  }
  return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is bad usage.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      process.stderr.write(`ibkr-keeper: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`ibkr-keeper: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// `ibkr-keeper history | head`: a reader that went away is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ibkr-keeper: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
