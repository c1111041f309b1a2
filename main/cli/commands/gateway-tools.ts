/**
 * The work of `ibkr-keeper gateway certificate` and `ibkr-keeper doctor` (registered in
 * gateway.ts, loaded when one of them runs).
 */
import { resolveConfigDir } from '../../session/config-dir.ts';
import { UserError } from '../../session/errors.ts';
import { parseGatewayUrl } from '../../session/gateway-client.ts';
import { SettingsFile, type Settings } from '../../session/settings.ts';
import { probeCertificate } from '../../session/tls.ts';
import { TrustStore } from '../../session/trust-store.ts';
import { makeGatewayCertificate } from '../../gateway/certificate.ts';
import { checkGatewayFolder, gatewayUrl, openGatewayFolder } from '../../gateway/conf.ts';
import { runDoctor, type DoctorCheck } from '../../gateway/doctor.ts';
import { makeClient, type GatewayOptions } from '../context.ts';
import type { CertificateOptions } from './gateway.ts';

/** `doctor`'s exit code when a check failed (0 when none did). */
export const DOCTOR_FAILED = 10;

/**
 * The settings the app saves: a settings.json that cannot be read is a UserError naming it (exit 2),
 * as for every command that reads it, rather than settings quietly ignored.
 */
function readSettings(configDir: string): Settings {
  return SettingsFile.open(configDir).read().settings;
}

export async function runGatewayCertificate(options: CertificateOptions): Promise<number> {
  const configDir = resolveConfigDir(options.configDir);
  try {
    const dir = options.dir ?? readSettings(configDir).gatewayDir ?? undefined;
    if (dir === undefined)
      throw new UserError("Give the gateway's folder: --dir GATEWAY_DIR (where bin/run.sh and root/conf.yaml are).");
    const result = await makeGatewayCertificate({ dir, trust: new TrustStore(configDir) });
    const port = new URL(result.gateway).port;
    // A gateway running now still presents the old certificate until it restarts.
    const running = await probeCertificate('127.0.0.1', Number(port), 2_000).then(
      (c) => c.fingerprint256 !== result.fingerprint256,
      () => false,
    );
    const restart = running
      ? `The gateway on port ${port} is running with its old certificate, which the keeper now refuses: restart ` +
        `it (stop it, then bin/run.sh root/conf.yaml in ${result.gatewayDir}).`
      : `Start the gateway (bin/run.sh root/conf.yaml ` +
        `in ${result.gatewayDir}): it presents the new certificate, trusted without a prompt.`;
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), changed: true, ...result, restartNeeded: running })}\n`,
      );
    } else {
      const others = result.origins.slice(1);
      process.stdout.write(
        [
          `The gateway in ${result.gatewayDir} has a certificate of its own: SHA-256 ${result.fingerprint256}`,
          `  keystore   ${result.keystore} (JKS, for localhost and 127.0.0.1, valid until ${result.validTo})`,
          `  conf.yaml  sslCert and sslPwd now name it (they ` +
            `named ${result.previousKeystore}); the file as it was: ${result.backup}`,
          `  trusted    for ${result.origins[0]}${others.length > 0 ? ` and ${others.join(', ')}` : ''}`,
          restart,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    if (options.json)
      process.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), changed: false, error: error.message })}\n`,
      );
    process.stderr.write(`ibkr-keeper: ${error.message}\n`);
    return error.exitCode;
  }
}

function isGatewayFolder(dir: string): boolean {
  try {
    checkGatewayFolder(dir);
    return true;
  } catch {
    return false;
  }
}

const MARK: Record<DoctorCheck['status'], string> = { pass: '✓', fail: '✗', skip: '-' };

/**
 * `doctor`: the gateway is `--gateway` when given (or $IBKR_KEEPER_GATEWAY), else the one of the
 * folder's conf.yaml, else the settings' gateway; the folder is `--gateway-dir`, else the setting.
 */
export async function runDoctorCommand(options: GatewayOptions, gatewayGiven: boolean): Promise<number> {
  const configDir = resolveConfigDir(options.configDir);
  // Read whatever the flags give: a broken settings.json breaks the app and watch, so doctor says so (exit 2).
  const settings = readSettings(configDir);
  const gatewayDir = options.gatewayDir ?? settings.gatewayDir ?? undefined;
  let gateway = options.gateway;
  let addressUnknown: string | undefined;
  if (!gatewayGiven && !process.env['IBKR_KEEPER_GATEWAY']) {
    gateway = settings.gateway;
    try {
      if (gatewayDir !== undefined) gateway = gatewayUrl(openGatewayFolder(gatewayDir).conf.config);
    } catch {
      // The folder's own checks say what is wrong with it. Its gateway's address is then unknown:
      // the settings' one may be another gateway (or another program), so nothing is sent to it.
      addressUnknown =
        "the gateway's address comes from its folder's conf.yaml, which cannot be read (see above); " +
        'fix it, or give the address with --gateway';
    }
  }
  const address = parseGatewayUrl(gateway);
  const trust = new TrustStore(configDir);
  const pin = trust.get(address.origin);
  // A folder that is not the gateway's is a line of the checklist, not a reason to stop.
  const folderOk = gatewayDir !== undefined && isGatewayFolder(gatewayDir);
  const client = makeClient({ ...options, gateway, gatewayDir: folderOk ? gatewayDir : undefined });
  let report;
  try {
    report = await runDoctor({ client, pin, gatewayDir, timeoutMs: options.timeout * 1_000, addressUnknown });
  } finally {
    await client.close();
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...report })}\n`);
  } else {
    const lines = [
      `ibkr-keeper doctor: ${report.gateway}${report.gatewayDir ? `, gateway folder ${report.gatewayDir}` : ''}`,
    ];
    for (const c of report.checks)
      lines.push(`${MARK[c.status]} ${c.title}: ${c.detail}${c.fix ? ` Fix: ${c.fix}` : ''}`);
    lines.push(
      failed === 0
        ? 'Every check passed.'
        : failed === 1
          ? '1 check failed: fix it, then run ibkr-keeper doctor again.'
          : `${failed} checks failed: fix them from the top, then run ibkr-keeper doctor again.`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return failed === 0 ? 0 : DOCTOR_FAILED;
}
