/**
 * `ibkr-keeper login`: where to log in to the gateway, printed, and opened in the system's
 * browser (`--no-open` only prints; `$IBKR_KEEPER_BROWSER` names another program to open it with,
 * which is how tests avoid a browser). Only the https address of the configured gateway is opened.
 * Passwords never pass through the keeper: the person logs in on the gateway's own page.
 */
import { spawn } from 'node:child_process';
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

function openUrl(url: string): Promise<string | undefined> {
  const { command, args } = opener(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (error: NodeJS.ErrnoException) => resolve(`${command}: ${error.code ?? error.message}`));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
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
        ...(failed ? { error: failed } : {}),
        fingerprint256: pin?.fingerprint256,
      })}\n`,
    );
    return 0;
  }
  const lines = [`Log in to the gateway at ${url}`];
  if (pin)
    lines.push(
      `The browser warns about the gateway's certificate: the one ibkr-keeper trusts for it has ` +
        `SHA-256 ${pin.fingerprint256}; accept it only if the browser shows the same.`,
    );
  if (options.open)
    lines.push(
      failed ? `Could not open a browser (${failed}): open the address yourself.` : 'Opened it in your browser.',
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
