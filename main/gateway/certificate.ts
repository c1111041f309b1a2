/**
 * `ibkr-keeper gateway certificate`: gives a gateway a certificate of its own instead of the one
 * IBKR ships to everybody (its private key is in every download). A new key and self-signed
 * certificate (localhost, 127.0.0.1) in a JKS keystore in root/, `sslCert`/`sslPwd` in
 * root/conf.yaml pointed at it (the file backed up first, the rest of it kept as written), and
 * the new fingerprint pinned for the gateway's origins so its next start is trusted without a
 * prompt. Every check comes before the first change: on an error, nothing was changed.
 */
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isMap, type Document } from 'yaml';
import { UserError } from '../session/errors.ts';
import { isLoopbackHost } from '../session/tls.ts';
import type { TrustStore } from '../session/trust-store.ts';
import { gatewayUrl, openGatewayFolder, parseGatewayConf } from './conf.ts';
import { findJava, JavaNotFoundError, MINIMUM_JAVA } from './java.ts';
import { createKeystore } from './keystore.ts';

/** What `gateway certificate` did. */
export interface GatewayCertificateResult {
  readonly gatewayDir: string;
  readonly conf: string;
  /** The copy of conf.yaml as it was. */
  readonly backup: string;
  readonly keystore: string;
  readonly keystoreType: 'JKS';
  readonly fingerprint256: string;
  readonly subject: string;
  readonly validTo: string;
  /** The gateway's URL from conf.yaml. */
  readonly gateway: string;
  /** The origins whose pin is now the new fingerprint. */
  readonly origins: readonly string[];
  /** The keystore conf.yaml named before (the stock `vertx.jks` when it named none). */
  readonly previousKeystore: string;
}

/** Three years: "a few", and the pin does not depend on the dates anyway. */
export const CERTIFICATE_VALIDITY_DAYS = 1095;

/** `20261129-163512` (UTC), safe in a file name on every system. */
export function fileStamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
}

/** `base` with `-2`, `-3`... before the extension until no such file exists. */
function unused(base: string, ext = ''): string {
  let candidate = `${base}${ext}`;
  for (let n = 2; existsSync(candidate); n += 1) candidate = `${base}-${n}${ext}`;
  return candidate;
}

/**
 * Sets `key` to the double-quoted `value` in the document's top-level map: in place when the key
 * is there, else after `after` (or at the end). Comments, order and the other values stay.
 */
export function setTopLevel(document: Document, key: string, value: string, after?: string): void {
  const map = document.contents;
  if (!isMap(map)) throw new Error('conf.yaml is not a map');
  const node = document.createNode(value);
  node.type = 'QUOTE_DOUBLE';
  if (map.has(key)) {
    map.set(key, node);
    return;
  }
  const pair = document.createPair(key, node);
  const index =
    after === undefined ? -1 : map.items.findIndex((p) => (p.key as { value?: unknown } | null)?.value === after);
  if (index === -1) map.items.push(pair);
  else map.items.splice(index + 1, 0, pair);
}

function writable(file: string, what: string): void {
  try {
    accessSync(file, constants.W_OK);
  } catch {
    throw new UserError(`Cannot write ${what} ${file}: check its permissions (nothing was changed).`);
  }
}

/** Gives the gateway in `dir` a certificate of its own; see the module's comment. */
export async function makeGatewayCertificate(options: {
  dir: string;
  trust: TrustStore;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  validityDays?: number;
}): Promise<GatewayCertificateResult> {
  const { folder, conf } = openGatewayFolder(options.dir);
  // The trust file is read now so that a broken one stops everything before the first change.
  const pins = options.trust.list();
  writable(folder.conf, "the gateway's configuration");
  writable(folder.root, "the gateway's folder");
  let java;
  try {
    java = await findJava({ env: options.env ?? process.env });
  } catch (error) {
    if (error instanceof JavaNotFoundError) throw new UserError(`${error.message} (Nothing was changed.)`);
    throw error;
  }
  if (java.keytool === undefined) {
    throw new UserError(
      `${java.java} (from ${java.source}) has no keytool beside it: install a Java runtime that has one ` +
        `(${MINIMUM_JAVA} or later, e.g. Debian: openjdk-17-jre-headless) or set JAVA_HOME to it. Nothing was changed.`,
    );
  }

  const now = options.now ?? new Date();
  const stamp = fileStamp(now);
  const keystore = unused(path.join(folder.root, `ibkr-keeper-${stamp}`), '.jks');
  const password = randomBytes(24).toString('base64url');
  let created;
  try {
    created = await createKeystore({
      keytool: java.keytool,
      file: keystore,
      password,
      validityDays: options.validityDays ?? CERTIFICATE_VALIDITY_DAYS,
    });
    chmodSync(keystore, 0o600);
  } catch (error) {
    rmSync(keystore, { force: true });
    throw new UserError(
      `keytool (${java.keytool}) could not make the keystore: ${(error as Error).message}. Nothing was changed.`,
      1,
    );
  }

  const previousKeystore = conf.config.sslCert;
  const backup = unused(`${folder.conf}.bak-${stamp}`);
  const temporary = `${folder.conf}.ibkr-keeper-${process.pid}.tmp`;
  let backedUp = false;
  try {
    // A bare file name, as the stock `vertx.jks`: the gateway finds it in root/, on its class path.
    setTopLevel(conf.document, 'sslCert', path.basename(keystore), 'listenSsl');
    setTopLevel(conf.document, 'sslPwd', password, 'sslCert');
    const text = conf.document.toString();
    parseGatewayConf(text, folder.conf);
    copyFileSync(folder.conf, backup, constants.COPYFILE_EXCL);
    backedUp = true;
    writeFileSync(temporary, text, { mode: statSync(folder.conf).mode & 0o777 });
    renameSync(temporary, folder.conf);
  } catch (error) {
    rmSync(temporary, { force: true });
    rmSync(keystore, { force: true });
    if (backedUp) rmSync(backup, { force: true });
    throw new UserError(`Could not change ${folder.conf} (${(error as Error).message}). Nothing was changed.`, 1);
  }

  const gateway = gatewayUrl(conf.config);
  const port = conf.config.listenPort;
  const origins = new Set([new URL(gateway).origin, `https://127.0.0.1:${port}`]);
  for (const origin of Object.keys(pins)) {
    const url = new URL(origin);
    if (Number(url.port || 443) === port && isLoopbackHost(url.hostname)) origins.add(origin);
  }
  for (const origin of origins)
    options.trust.record(origin, {
      fingerprint256: created.certificate.fingerprint256,
      pem: created.certificate.pem,
      source: 'user',
    });

  return {
    gatewayDir: folder.dir,
    conf: folder.conf,
    backup,
    keystore,
    keystoreType: 'JKS',
    fingerprint256: created.certificate.fingerprint256,
    subject: created.certificate.subject,
    validTo: created.certificate.validTo,
    gateway,
    origins: [...origins],
    previousKeystore,
  };
}
