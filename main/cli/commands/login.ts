/**
 * `ibkr-keeper login`: where to log in to the gateway, printed, and opened in the system's
 * browser (`--no-open` only prints; `$IBKR_KEEPER_BROWSER` names another program to open it with,
 * which is how tests avoid a browser). Only the https address of the configured gateway is opened.
 * Passwords never pass through the keeper: the person logs in on the gateway's own page.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { resolveConfigDir } from '../../session/config-dir.ts';
import { parseGatewayUrl } from '../../session/gateway-client.ts';
import { SettingsFile } from '../../session/settings.ts';
import { TrustStore } from '../../session/trust-store.ts';
import type { GatewayOptions } from '../context.ts';

export interface LoginOptions extends GatewayOptions {
  open: boolean;
}

/** The program that opens a URL in the default browser, per platform. */
function opener(url: string, env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } {
  const custom = env['IBKR_KEEPER_BROWSER'];
  if (custom) return { command: custom, args: [url] };
  if (process.platform === 'darwin') return { command: 'open', args: [url] };
  if (process.platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/** How long the opener may take to say whether it opened the page (xdg-open, open and rundll32 hand it off at once). */
export const OPENER_WAIT_MS = 10_000;

/** Exit code of `login` when no browser could be opened (the address is printed: open it yourself). */
export const NOT_OPENED_EXIT_CODE = 11;

/**
 * Runs the opener and waits for its exit code: xdg-open exits 3 on a server with no browser, and
 * a program that cannot open the page exits non-zero. One still running after `waitMs` is taken
 * for a browser that stays open (it had the address). Resolves to why it failed, or undefined.
 */
export function openUrl(url: string, waitMs = OPENER_WAIT_MS): Promise<string | undefined> {
  const { command, args } = opener(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    const timer = setTimeout(() => {
      child.removeAllListeners('exit');
      child.unref();
      resolve(undefined);
    }, waitMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`${command}: ${error.code ?? error.message}`);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(undefined);
      const how = signal ? `was ended by ${signal}` : `exited with code ${code}`;
      // xdg-open's code 3: "a required tool could not be found" (no browser, no desktop).
      const why = code === 3 && path.basename(command) === 'xdg-open' ? ': no browser was found' : '';
      resolve(`${command} ${how}${why}`);
    });
  });
}

export async function runLogin(options: LoginOptions, gatewayGiven: boolean): Promise<number> {
  const configDir = resolveConfigDir(options.configDir);
  let gateway = options.gateway;
  if (!gatewayGiven && !process.env['IBKR_KEEPER_GATEWAY']) {
    const { settings } = SettingsFile.open(configDir).read();
    const dir = options.gatewayDir ?? settings.gatewayDir ?? undefined;
    if (dir !== undefined) {
      const { gatewayUrl, openGatewayFolder } = await import('../../gateway/conf.ts');
      gateway = gatewayUrl(openGatewayFolder(dir).conf.config);
    } else gateway = settings.gateway;
  }
  const address = parseGatewayUrl(gateway);
  const url = `${address.origin}/`;
  const pin = new TrustStore(configDir).get(address.origin);
  const failed = options.open ? await openUrl(url) : undefined;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        time: new Date().toISOString(),
        url,
        opened: options.open && failed === undefined,
        ...(failed ? { error: `Could not open a browser (${failed}): open ${url} yourself.` } : {}),
        fingerprint256: pin?.fingerprint256,
      })}\n`,
    );
    return failed ? NOT_OPENED_EXIT_CODE : 0;
  }
  const lines = [`Log in to the gateway at ${url}`];
  if (pin)
    lines.push(
      `The browser warns about the gateway's certificate: the one ibkr-keeper trusts for it has ` +
        `SHA-256 ${pin.fingerprint256}; accept it only if the browser shows the same.`,
    );
  if (options.open && !failed) lines.push('Opened it in your browser.');
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!failed) return 0;
  process.stderr.write(
    `ibkr-keeper: Could not open a browser (${failed}): open ${url} yourself in a browser ` +
      '(--no-open only prints it).\n',
  );
  return NOT_OPENED_EXIT_CODE;
}
