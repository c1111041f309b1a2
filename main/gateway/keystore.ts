/**
 * The gateway's keystore through the JRE's own `keytool`: make a key and a self-signed
 * certificate, and read the certificate back, as the gateway opens it (as a "JKS" keystore,
 * Vert.x's JksOptions, which on Java 9+ also reads PKCS#12). Passwords go to keytool through
 * its environment (`-storepass:env`), never on a command line other users can see.
 * docs/gateway.md ("The gateway's certificate") says what was tried with the real gateway.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describeCertificate, type CertificateInfo } from '../session/tls.ts';

const run = promisify(execFile);

/** The variable keytool reads the password from. */
const PASSWORD_VARIABLE = 'IBKR_KEEPER_KEYSTORE_PASSWORD';

/** keytool failed: its own message, one line. */
export class KeytoolError extends Error {
  override readonly name = 'KeytoolError';
}

async function keytool(keytoolPath: string, args: string[], password: string, timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run(keytoolPath, ['-J-Duser.language=en', ...args], {
      env: { ...process.env, [PASSWORD_VARIABLE]: password },
      timeout: timeoutMs,
      windowsHide: true,
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const said = `${e.stdout ?? ''}\n${e.stderr ?? ''}`
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /error|exception/i.test(l));
    throw new KeytoolError(
      (said ?? e.message.split('\n')[0] ?? 'keytool failed')
        .replace(/^keytool error:\s*/, '')
        .replace(/^java\.[\w.]+:\s*/, ''),
    );
  }
}

/** What a new keystore holds. */
export interface NewKeystore {
  readonly file: string;
  readonly alias: string;
  readonly certificate: CertificateInfo;
}

/**
 * Makes `file` (which must not exist) a JKS keystore with a new RSA key and a self-signed
 * certificate for `localhost` and `127.0.0.1`, valid `validityDays` days, the key protected by
 * the store's password (the gateway gives one password for both), and reads the certificate back.
 * JKS because every Java the gateway runs on reads it (a PKCS#12 from a recent keytool is not
 * read by Java 8 before 8u301).
 */
export async function createKeystore(options: {
  keytool: string;
  file: string;
  password: string;
  validityDays: number;
  alias?: string;
}): Promise<NewKeystore> {
  const alias = options.alias ?? 'gateway';
  await keytool(
    options.keytool,
    [
      '-genkeypair',
      '-noprompt',
      '-alias',
      alias,
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-sigalg',
      'SHA256withRSA',
      '-validity',
      String(options.validityDays),
      '-dname',
      'CN=localhost, OU=Client Portal Gateway, O=IBKR Session Keeper',
      '-ext',
      'SAN=dns:localhost,ip:127.0.0.1',
      '-storetype',
      'JKS',
      '-keystore',
      options.file,
      `-storepass:env`,
      PASSWORD_VARIABLE,
      `-keypass:env`,
      PASSWORD_VARIABLE,
    ],
    options.password,
  );
  return {
    file: options.file,
    alias,
    certificate: await readKeystoreCertificate({
      keytool: options.keytool,
      file: options.file,
      password: options.password,
    }),
  };
}

/**
 * The certificate the gateway would present from keystore `file` opened with `password` (the
 * first certificate in it), or a KeytoolError with keytool's reason (wrong password, not a
 * keystore, no file): the gateway then starts but never listens, and says nothing.
 */
export async function readKeystoreCertificate(options: {
  keytool: string;
  file: string;
  password: string;
}): Promise<CertificateInfo> {
  const listing = await keytool(
    options.keytool,
    ['-list', '-rfc', '-storetype', 'JKS', '-keystore', options.file, '-storepass:env', PASSWORD_VARIABLE],
    options.password,
  );
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(listing)?.[0];
  if (pem === undefined) throw new KeytoolError(`${options.file} holds no certificate`);
  return describeCertificate(pem);
}
