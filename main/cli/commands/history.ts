/** `ibkr-keeper history`: the transitions the keeper recorded, oldest first. */
import { InvalidArgumentError, type Command } from 'commander';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { History } from '../../session/history.ts';
import { duration } from '../../session/duration.ts';
import { transitionLine } from './watch.ts';

/** `--since`: a duration back from now (`2h`, `30m`, `1d`) or an ISO date; epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  const days = /^(\d+)d$/.exec(value);
  if (days) return now - Number(days[1]) * 86_400_000;
  const back = duration.safeParse(value);
  if (back.success && typeof value === 'string' && !/^\d+$/.test(value)) return now - back.data;
  const date = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(date)) return date;
  throw new InvalidArgumentError(
    `--since takes a time back from now (30m, 2h, 1d) or a date (2026-11-28 or 2026-11-28T09:00), not "${value}".`,
  );
}

export function registerHistoryCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('history')
    .description('print the changes of state the keeper recorded')
    .option('--since <when>', 'only since then: 30m, 2h, 1d, or a date', (v: string) => parseSince(v))
    .option(
      '--config-dir <dir>',
      'where the history lives (default: the platform config folder, or $IBKR_KEEPER_CONFIG_DIR)',
    )
    .option('--json', 'one JSON object per line')
    .action((options: { since?: number; configDir?: string; json?: boolean }) => {
      const history = new History(resolveConfigDir(options.configDir));
      const { transitions, skipped } = history.read(options.since);
      // One config folder may keep several gateways (paper and live): then each line names its own.
      const several = new Set(transitions.map((t) => t.gateway).filter((g) => g !== undefined)).size > 1;
      for (const t of transitions)
        process.stdout.write(`${options.json ? JSON.stringify(t) : transitionLine(t, several)}\n`);
      if (transitions.length === 0 && !options.json)
        process.stdout.write(
          `No changes of state recorded${options.since ? ' in that time' : ''} (${history.file}).\n`,
        );
      if (skipped > 0)
        process.stderr.write(`${skipped} line(s) of ${history.file} could not be read and were left out.\n`);
      exit(0);
    });
}
