/**
 * Where the keeper keeps its files (trust store, request ledger; later settings and history).
 * The platform's convention by default, overridable by `--config-dir` or `IBKR_KEEPER_CONFIG_DIR`.
 */
import envPaths from 'env-paths';
import { UserError } from './errors.ts';

/** The environment variable that overrides the default config directory. */
export const CONFIG_DIR_ENV = 'IBKR_KEEPER_CONFIG_DIR';

/**
 * The directory to use: the explicit one, else the environment's, else the platform's. An
 * explicit empty one (`--config-dir ''`, a variable that expanded to nothing) is refused rather
 * than taken for the default, which holds the user's real trust and pacing files.
 */
export function resolveConfigDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    if (explicit.trim() === '')
      throw new UserError('--config-dir is empty: give a folder, or leave the flag out to use the default one.');
    return explicit;
  }
  const fromEnv = env[CONFIG_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return envPaths('ibkr-session-keeper', { suffix: '' }).config;
}
