/**
 * What every gateway command shares: its options, the client built from them, and the printing
 * of a classified result as one readable line or one JSON object.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Classification } from '../session/classify.ts';
import { resolveConfigDir } from '../session/config-dir.ts';
import { DEFAULT_GATEWAY, GatewayClient, parseGatewayUrl } from '../session/gateway-client.ts';
import { checkGatewayFolder } from '../gateway/folder.ts';
import { UserError } from '../session/errors.ts';
import { fileLedger } from '../session/pacing.ts';
import { quoteInput, redactBody } from '../session/redact.ts';
import { STATE_INFO, type SessionState } from '../session/states.ts';
import { publiclyKnownNotice } from '../session/tls.ts';
import { TrustStore } from '../session/trust-store.ts';

/** The options of every command that talks to a gateway. */
export interface GatewayOptions {
  gateway: string;
  configDir?: string;
  json?: boolean;
  timeout: number;
  /** The gateway's folder, to explain Access Denied from its conf.yaml. */
  gatewayDir?: string;
}

/**
 * What a command says of the shared options in its --help, where the words of the default would
 * not be true for it; `timeout: false` and `gatewayDir: false` leave out an option the command has
 * no use for (it sends nothing, or reads no gateway folder).
 */
export interface GatewayOptionWords {
  /** Where the address comes from when --gateway is not given. */
  readonly gatewayDefault?: string;
  readonly gatewayDir?: string | false;
  readonly timeout?: false;
  /** What lives in the config folder, for this command. */
  readonly configDir?: string;
}

/** Adds `--gateway`, `--config-dir`, `--json`, `--timeout` and `--gateway-dir` to a command. */
export function gatewayOptions(command: Command, words: GatewayOptionWords = {}): Command {
  command
    .addOption(
      new Option('--gateway <url>', "the gateway's address").default(
        process.env['IBKR_KEEPER_GATEWAY'] ?? DEFAULT_GATEWAY,
        words.gatewayDefault ?? `$IBKR_KEEPER_GATEWAY, else ${DEFAULT_GATEWAY}`,
      ),
    )
    .option(
      '--config-dir <dir>',
      `${words.configDir ?? 'where trust and pacing files live'} (default: the platform config folder, or ` +
        '$IBKR_KEEPER_CONFIG_DIR)',
    )
    .option('--json', 'print one JSON object instead of a line');
  if (words.timeout !== false)
    command.option(
      '--timeout <seconds>',
      'seconds to wait for each answer (0.5 to 120)',
      boundedNumber('--timeout', TIMEOUT_RANGE.minimum, TIMEOUT_RANGE.maximum),
      10,
    );
  if (words.gatewayDir !== false)
    command.option(
      '--gateway-dir <dir>',
      words.gatewayDir ??
        "the gateway's folder (where bin/run.sh and root/conf.yaml are): explains Access Denied from its conf.yaml",
    );
  return command;
}

/** A commander parser for a positive number, with a message naming the flag. */
export function positiveNumber(flag: string, minimum = Number.MIN_VALUE): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < minimum) {
      throw new InvalidArgumentError(
        `${flag} takes a number${minimum === Number.MIN_VALUE ? ' above 0' : ` of at least ${minimum}`}, ` +
          `not ${quoteInput(value)}.`,
      );
    }
    return n;
  };
}

/** A commander parser for a number from `minimum` to `maximum`, with a message naming the flag and the range. */
export function boundedNumber(flag: string, minimum: number, maximum: number, why = ''): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < minimum || n > maximum) {
      throw new InvalidArgumentError(
        `${flag} takes a number from ${minimum} to ${maximum}${why}, not ${quoteInput(value)}.`,
      );
    }
    return n;
  };
}

/** Seconds to wait for each answer: at least 0.5 (a loopback gateway answers in milliseconds), at most 120. */
export const TIMEOUT_RANGE = { minimum: 0.5, maximum: 120 } as const;

/** A commander parser for a TCP port (0 picks a free one). */
export function port(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65_535)
      throw new InvalidArgumentError(`${flag} takes a port from 0 to 65535, not ${quoteInput(value)}.`);
    return n;
  };
}

/** The client for the command's gateway; the URL and the folder are checked first, so a bad one exits 2. */
export function makeClient(options: GatewayOptions): GatewayClient {
  parseGatewayUrl(options.gateway);
  if (options.gatewayDir?.trim() === '')
    throw new UserError("--gateway-dir is empty: give the gateway's folder, or leave the flag out.");
  if (options.gatewayDir !== undefined) checkGatewayFolder(options.gatewayDir);
  const configDir = resolveConfigDir(options.configDir);
  return new GatewayClient({
    gateway: options.gateway,
    trust: new TrustStore(configDir),
    pacing: fileLedger(configDir),
    timeoutMs: options.timeout * 1_000,
    onFirstUseTrust: ({ origin, fingerprint256 }) => {
      const notice = publiclyKnownNotice(fingerprint256, options.gatewayDir);
      process.stderr.write(
        `Trusted the certificate of ${origin} on first use: ` +
          `SHA-256 ${fingerprint256}\n${notice ? `Note: ${notice}\n` : ''}`,
      );
    },
    // Loaded only when the gateway answers Access Denied (it brings the YAML reader).
    explainAccessDenied: async (address) =>
      (await import('../gateway/access-denied.ts')).accessDeniedExplainer(options.gatewayDir)(address),
  });
}

/**
 * With --gateway-dir, the folder's conf.yaml is read before anything is sent: one that the gateway
 * cannot read either is its error (a UserError, exit 2), not an explanation that fails later.
 * Loaded only then (it brings the YAML reader).
 */
export async function checkGatewayConf(gatewayDir: string | undefined): Promise<void> {
  if (gatewayDir === undefined) return;
  const { openGatewayFolder } = await import('../gateway/conf.ts');
  openGatewayFolder(gatewayDir);
}

/** Prints a classification and returns its exit code. `extra` goes into the JSON object only. */
export function report(result: Classification, options: GatewayOptions, extra: Record<string, unknown> = {}): number {
  const info = STATE_INFO[result.state];
  if (options.json) {
    const body = {
      time: new Date().toISOString(),
      gateway: parseGatewayUrl(options.gateway).origin,
      state: result.state,
      reason: result.reason,
      advice: info.advice,
      facts: result.facts,
      ...extra,
    };
    process.stdout.write(`${JSON.stringify(redactBody(body))}\n`);
  } else {
    process.stdout.write(`${describe(result)}\n`);
  }
  return info.exitCode;
}

/** One line a person understands: state, reason, the facts worth a glance, and (by default) what to do. */
export function describe(
  result: Pick<Classification, 'reason' | 'facts'> & { readonly state: SessionState },
  withAdvice = true,
): string {
  const { facts } = result;
  const details: string[] = [];
  if (facts.serverName) details.push(`server ${facts.serverName}`);
  if (facts.ssoExpiresInMs !== undefined && result.state === 'ready')
    details.push(`login refreshes within ${formatDuration(facts.ssoExpiresInMs)}`);
  if (facts.latencyMs !== undefined && facts.latencyMs > 0) details.push(`${facts.latencyMs} ms`);
  const advice = STATE_INFO[result.state].advice;
  return [
    `${result.state}: ${result.reason}`,
    details.length > 0 ? `(${details.join(', ')})` : '',
    result.state === 'ready' || !withAdvice ? '' : advice,
  ]
    .filter((part) => part !== '')
    .join(' ');
}

/** `9 min 59 s`, `42 s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
}
