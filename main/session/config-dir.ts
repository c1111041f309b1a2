/**
 * Where the keeper keeps its files (trust store, request ledger; later settings and history).
 * The platform's convention by default, overridable by `--config-dir` or `IBKR_KEEPER_CONFIG_DIR`.
 */
import envPaths from 'env-paths';

/** The environment variable that overrides the default config directory. */
export const CONFIG_DIR_ENV = 'IBKR_KEEPER_CONFIG_DIR';

/** The directory to use: the explicit one, else the environment's, else the platform's. */
export function resolveConfigDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const fromEnv = env[CONFIG_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return envPaths('ibkr-session-keeper', { suffix: '' }).config;
}
